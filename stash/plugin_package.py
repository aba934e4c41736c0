"""The Stash plugin as a package of a plugin source: its zip and its entry in `index.yml`.

Stash's package manager (Settings → Plugins → Available Plugins → Add Source) reads a YAML list
of packages from the source URL. Each entry has `id`, `name`, `version`, `date`, `path` (the
zip: relative to the index, absolute on the same host, or a full URL), `sha256` (hex of the
zip, checked before installing), optional `requires` (package ids) and `metadata` (shown in the
UI, e.g. `description`). `date` is UTC as `YYYY-MM-DD HH:MM:SS`; Stash offers an update when an
entry's date is after the installed one's. The zip's files are unpacked into
`<plugins>/<source folder>/<id>/`, so they sit at the zip's root and the manifest is `<id>.yml`.

Nothing here touches the database: the zip is the same bytes for the same plugin files and
service address (fixed timestamps and order), so its sha256 names one release.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from stash.plugin_files import (
    MANIFEST_NAME,
    PLUGIN_ID,
    PLUGIN_SOURCE_DIR,
    rendered_plugin_files,
)

ZIP_NAME = f"{PLUGIN_ID}.zip"
# Stash parses the date with Go's layout "2006-01-02 15:04:05" (UTC).
STASH_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# Every member gets this time and mode, so equal files give an equal zip (and sha256).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644


@dataclass(frozen=True)
class PluginPackage:
    """The plugin rendered for one service address, zipped."""

    zip_bytes: bytes
    sha256: str
    version: str
    name: str
    description: str


def plugin_package(service_url: str, *, source_dir: Path = PLUGIN_SOURCE_DIR) -> PluginPackage:
    """The plugin's zip for `service_url`, with the version and texts its index entry needs."""
    files = rendered_plugin_files(service_url, source_dir=source_dir)
    zip_bytes = _zip_of(files)
    sha256 = hashlib.sha256(zip_bytes).hexdigest()
    manifest = yaml.safe_load(files[MANIFEST_NAME])
    return PluginPackage(
        zip_bytes=zip_bytes,
        sha256=sha256,
        # The manifest's own version, then the zip's hash: any change to a file (or to the
        # service address) is a new version even when nobody bumped the number.
        version=f"{manifest.get('version', '0')}-{sha256[:8]}",
        name=str(manifest["name"]),
        description=str(manifest.get("description") or ""),
    )


def _zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | _FILE_MODE) << 16  # a regular file, rw-r--r--
            archive.writestr(info, files[name])
    return buffer.getvalue()


def plugin_index_yaml(package: PluginPackage, *, date: datetime, zip_path: str) -> str:
    """The source's `index.yml`: a list with this plugin's one entry."""
    entry = {
        "id": PLUGIN_ID,
        "name": package.name,
        "metadata": {"description": package.description},
        "version": package.version,
        "date": date.strftime(STASH_DATE_FORMAT),
        "path": zip_path,
        "sha256": package.sha256,
        "requires": [],
    }
    # safe_dump quotes the date (it looks like a YAML timestamp), so Stash reads a string.
    return yaml.safe_dump([entry], sort_keys=False, allow_unicode=True)
