"""The plugin source: `/plugin/index.yml` and its zip, read and installed the way Stash does.

The checks follow Stash's package manager (pkg/pkg): the index is a YAML list of
RemotePackage (`id`, `name`, `version`, `date`, `path`, `sha256`, `requires`, `metadata`),
`date` is parsed with the layout "2006-01-02 15:04:05", `path` is resolved against the index
URL, the zip's sha256 must equal the entry's, and each file of the zip is written to
`<plugins>/<source folder>/<id>/<name>`; the plugin loader then finds `<id>.yml` and decodes it
strictly (unknown fields are an error).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import shutil
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from django.test import Client

from stash.models import PluginRelease
from stash.plugin_files import PLUGIN_SOURCE_DIR
from stash.plugin_package import STASH_DATE_FORMAT, plugin_package
from stash.plugin_source import plugin_published

SOURCE_URL = "http://testserver/plugin/index.yml"
# RemotePackage's fields and the YAML types Go decodes them from.
REMOTE_PACKAGE_FIELDS: dict[str, type] = {
    "id": str,
    "name": str,
    "version": str,
    "date": str,
    "path": str,
    "sha256": str,
    "requires": list,
    "metadata": dict,
}
# What Stash's plugin config decodes (strictly) and what its UI part may hold.
PLUGIN_CONFIG_FIELDS = {
    "name",
    "description",
    "url",
    "version",
    "exec",
    "interface",
    "errLog",
    "tasks",
    "hooks",
    "ui",
    "settings",
}
UI_FIELDS = {"css", "javascript", "requires", "assets", "csp"}
CSP_FIELDS = {"script-src", "style-src", "connect-src"}
SETTING_TYPES = {"STRING", "NUMBER", "BOOLEAN"}


def _index(client: Client) -> list[dict[str, Any]]:
    response = client.get("/plugin/index.yml")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/yaml")
    index = yaml.safe_load(response.content)
    assert isinstance(index, list)
    return index


def _resolve(source_url: str, path: str) -> str:
    """Stash's resolvePath: a URL as is, an absolute path on the source's host, else relative."""
    if urlsplit(path).scheme and urlsplit(path).netloc:
        return path
    parts = urlsplit(source_url)
    joined = path if path.startswith("/") else posixpath.join(posixpath.dirname(parts.path), path)
    return urlunsplit((parts.scheme, parts.netloc, joined, parts.query, ""))


def _check_remote_package(entry: dict[str, Any]) -> None:
    for field, kind in REMOTE_PACKAGE_FIELDS.items():
        if field in entry:
            assert isinstance(entry[field], kind), f"{field} is {type(entry[field]).__name__}"
    for field in ("id", "name", "version", "date", "path", "sha256"):
        assert entry.get(field), f"{field} missing"
    datetime.strptime(entry["date"], STASH_DATE_FORMAT)  # Stash's layout, or ValueError
    assert all(isinstance(item, str) for item in entry["requires"])
    assert len(entry["sha256"]) == 64 and int(entry["sha256"], 16) >= 0


def _download(client: Client, entry: dict[str, Any]) -> bytes:
    url = urlsplit(_resolve(SOURCE_URL, entry["path"]))
    assert url.netloc == "testserver"
    response = client.get(url.path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return bytes(response.content)


def _install(zip_bytes: bytes, package_id: str, plugins: Path) -> Path:
    """Stash's installPackage: every file of the zip under <plugins>/<source>/<id>/."""
    folder = plugins / "stash-sense-source" / package_id
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = posixpath.normpath(info.filename)
            assert not name.startswith(("/", "..")), f"{info.filename} leaves the folder"
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
    return folder


def _check_plugin_config(manifest: dict[str, Any], folder: Path) -> None:
    assert set(manifest) <= PLUGIN_CONFIG_FIELDS, set(manifest) - PLUGIN_CONFIG_FIELDS
    assert isinstance(manifest["name"], str) and isinstance(manifest["version"], str)
    ui = manifest["ui"]
    assert set(ui) <= UI_FIELDS and set(ui["csp"]) <= CSP_FIELDS
    for name in ui["javascript"] + ui["css"]:
        assert (folder / name).is_file(), f"{name} is listed but not installed"
    assert all(isinstance(origin, str) for origin in ui["csp"]["connect-src"])
    for key, setting in manifest["settings"].items():
        assert isinstance(setting["displayName"], str), key
        assert setting["type"] in SETTING_TYPES, key


@pytest.mark.django_db
def test_the_index_lists_the_plugin_in_the_format_stash_reads(client: Client) -> None:
    [entry] = _index(client)

    _check_remote_package(entry)
    assert entry["id"] == "stash-sense" and entry["name"] == "Stash Sense"
    assert entry["metadata"]["description"].startswith("Identifies the performers")
    assert entry["path"] == "stash-sense.zip"  # beside the index
    assert _resolve(SOURCE_URL, entry["path"]) == "http://testserver/plugin/stash-sense.zip"
    zip_bytes = _download(client, entry)
    assert hashlib.sha256(zip_bytes).hexdigest() == entry["sha256"]


@pytest.mark.django_db
def test_the_date_is_a_quoted_string_in_the_yaml(client: Client) -> None:
    text = client.get("/plugin/index.yml").content.decode()
    date_line = next(line for line in text.splitlines() if line.strip().startswith("date:"))
    # Unquoted, a YAML 1.1 reader could take it for a timestamp instead of Stash's string.
    assert date_line.split(":", 1)[1].strip().startswith(("'", '"'))


@pytest.mark.django_db
def test_the_zip_installs_into_a_plugins_folder_as_stash_would(
    client: Client, tmp_path: Path, settings: Any
) -> None:
    settings.STASHSENSE_PUBLIC_URL = "http://192.168.1.5:8000"
    [entry] = _index(client)

    folder = _install(_download(client, entry), entry["id"], tmp_path / "plugins")

    manifests = list((tmp_path / "plugins").rglob("*.yml"))
    assert manifests == [folder / f"{entry['id']}.yml"]  # the loader names plugins by file
    manifest = yaml.safe_load(manifests[0].read_text())
    _check_plugin_config(manifest, folder)
    assert manifest["ui"]["csp"]["connect-src"] == ["http://192.168.1.5:8000"]
    core = (folder / "stash-sense-core.js").read_text()
    assert 'const DEFAULT_SERVICE_URL = "http://192.168.1.5:8000";' in core


@pytest.mark.django_db
def test_without_a_public_url_the_plugin_is_built_for_the_address_stash_used(
    client: Client, tmp_path: Path, settings: Any
) -> None:
    settings.STASHSENSE_PUBLIC_URL = ""
    [entry] = _index(client)

    folder = _install(_download(client, entry), entry["id"], tmp_path)

    manifest = yaml.safe_load((folder / "stash-sense.yml").read_text())
    assert manifest["ui"]["csp"]["connect-src"] == ["http://testserver"]


@pytest.mark.django_db
def test_stash_can_ask_for_the_date_of_the_index_without_its_body(client: Client) -> None:
    head = client.head("/plugin/index.yml")
    get = client.get("/plugin/index.yml")

    assert head.status_code == 200 and head.content == b""
    assert head["Last-Modified"] == get["Last-Modified"]
    [entry] = yaml.safe_load(get.content)
    modified = datetime.strptime(head["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT")
    assert modified == datetime.strptime(entry["date"], STASH_DATE_FORMAT)


@pytest.mark.django_db
def test_the_source_refuses_writes(client: Client) -> None:
    assert client.post("/plugin/index.yml").status_code == 405


def test_the_same_files_make_the_same_zip_and_version() -> None:
    first, second = plugin_package("http://sense:8000"), plugin_package("http://sense:8000")
    assert first.zip_bytes == second.zip_bytes and first.version == second.version


def test_a_changed_plugin_file_is_a_new_version(tmp_path: Path) -> None:
    source = tmp_path / "stash-sense"
    shutil.copytree(PLUGIN_SOURCE_DIR, source)
    before = plugin_package("http://sense:8000", source_dir=source)
    script = source / "stash-sense.js"
    script.write_text(script.read_text() + "\n// changed\n")

    after = plugin_package("http://sense:8000", source_dir=source)

    assert after.sha256 != before.sha256 and after.version != before.version
    assert after.version.startswith("0.1.0-")


@pytest.mark.django_db
def test_each_new_zip_is_dated_after_every_earlier_one_so_stash_offers_the_update() -> None:
    first = plugin_published(service_url="http://sense:8000")
    again = plugin_published(service_url="http://sense:8000")
    moved = plugin_published(service_url="http://sense.lan:8000")
    back = plugin_published(service_url="http://sense:8000")

    assert again.published_at == first.published_at  # nothing changed: no update
    assert moved.package.version != first.package.version
    assert first.published_at < moved.published_at < back.published_at
    assert PluginRelease.objects.count() == 2
