"""The Stash UI plugin's files, rendered for one Stash Sense service address.

`plugin/stash-sense/` is a template: its yml lists the placeholder address in
`ui.csp.connect-src` (the only origin the browser may fetch from besides Stash) and the core
script uses it as the default "Service URL". Rendering replaces both with the real address.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from stashsense.errors import ApplicationError

PLUGIN_ID = "stash-sense"
PLUGIN_SOURCE_DIR = Path(__file__).resolve().parents[1] / "plugin" / PLUGIN_ID
TEMPLATE_SERVICE_URL = "http://127.0.0.1:8000"
MANIFEST_NAME = f"{PLUGIN_ID}.yml"
CORE_SCRIPT_NAME = f"{PLUGIN_ID}-core.js"
# What may appear in a URL we write into YAML and JavaScript: no quotes, spaces or '#'.
SAFE_URL = re.compile(r"^[A-Za-z0-9._~:/\[\]%-]+$")


def plugin_service_url(service_url: str) -> str:
    """The service address normalised (lower-case scheme and host, no trailing slash)."""
    candidate = service_url.strip()
    parts = urlsplit(candidate)
    problem = None
    if parts.scheme.lower() not in ("http", "https"):
        problem = "must start with http:// or https://"
    elif not parts.hostname:
        problem = "has no host"
    elif parts.username or parts.password:
        problem = "must not carry a user name or password"
    elif parts.query or parts.fragment or candidate.endswith(("?", "#")):
        problem = "must not have a query or fragment"
    elif not SAFE_URL.match(candidate):
        problem = "has characters that are not allowed"
    else:
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            problem = "has an invalid port"
    if problem:
        raise ApplicationError(f"service URL {service_url!r} {problem}", code="invalid_service_url")
    netloc = parts.netloc.lower()
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}"


def service_origin(service_url: str) -> str:
    """scheme://host[:port] of a normalised service URL: what CSP connect-src needs."""
    parts = urlsplit(service_url)
    return f"{parts.scheme}://{parts.netloc}"


def rendered_plugin_files(
    service_url: str, *, source_dir: Path = PLUGIN_SOURCE_DIR
) -> dict[str, bytes]:
    """Every plugin file by name, with `service_url` filled into the manifest and core script."""
    url = plugin_service_url(service_url)
    files: dict[str, bytes] = {}
    for source in sorted(p for p in source_dir.iterdir() if p.is_file()):
        if source.name.startswith("."):
            continue
        if source.name == MANIFEST_NAME:
            text = _replace_once(source, TEMPLATE_SERVICE_URL, service_origin(url))
            files[source.name] = text.encode("utf-8")
        elif source.name == CORE_SCRIPT_NAME:
            literal = json.dumps(TEMPLATE_SERVICE_URL)
            files[source.name] = _replace_once(source, literal, json.dumps(url)).encode("utf-8")
        else:
            files[source.name] = source.read_bytes()
    return files


def render_plugin(
    out_dir: Path, service_url: str, *, source_dir: Path = PLUGIN_SOURCE_DIR
) -> list[Path]:
    """Write the plugin folder to `out_dir/stash-sense/` for `service_url`; returns its files."""
    files = rendered_plugin_files(service_url, source_dir=source_dir)
    target = out_dir / PLUGIN_ID
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        destination = target / name
        destination.write_bytes(content)
        written.append(destination)
    return written


def _replace_once(source: Path, placeholder: str, value: str) -> str:
    """The file's text with its one placeholder replaced; a template that drifted is an error."""
    text = source.read_text(encoding="utf-8")
    found = text.count(placeholder)
    if found != 1:
        raise ApplicationError(
            f"{source.name} has {found} copies of {placeholder}, expected exactly one",
            code="plugin_template_changed",
        )
    return text.replace(placeholder, value)
