"""The plugin folder rendered for a service address, and the Node unit tests run from pytest."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stash.plugin_files import (
    PLUGIN_SOURCE_DIR,
    TEMPLATE_SERVICE_URL,
    plugin_service_url,
    render_plugin,
)
from stashsense.errors import ApplicationError

REPO_ROOT = Path(__file__).resolve().parents[2]


def csp_origins(manifest: str) -> list[str]:
    origins: list[str] = yaml.safe_load(manifest)["ui"]["csp"]["connect-src"]
    return origins


def default_service_url(core_script: str) -> str:
    match = re.search(r"const DEFAULT_SERVICE_URL = (\"[^\"]*\");", core_script)
    assert match, "DEFAULT_SERVICE_URL not found"
    return str(json.loads(match[1]))


def test_the_template_names_the_placeholder_service_once_in_manifest_and_core() -> None:
    manifest = (PLUGIN_SOURCE_DIR / "stash-sense.yml").read_text()
    core = (PLUGIN_SOURCE_DIR / "stash-sense-core.js").read_text()
    assert csp_origins(manifest) == [TEMPLATE_SERVICE_URL]
    assert default_service_url(core) == TEMPLATE_SERVICE_URL


def test_render_copies_every_plugin_file(tmp_path: Path) -> None:
    written = render_plugin(tmp_path, "http://sense.lan:8000")
    names = sorted(path.name for path in written)
    assert names == [
        "stash-sense-core.js",
        "stash-sense.css",
        "stash-sense.js",
        "stash-sense.yml",
    ]
    assert all(path.parent == tmp_path / "stash-sense" for path in written)
    css = (tmp_path / "stash-sense" / "stash-sense.css").read_bytes()
    assert css == (PLUGIN_SOURCE_DIR / "stash-sense.css").read_bytes()


def test_render_puts_the_origin_in_the_csp_and_the_url_in_the_script(tmp_path: Path) -> None:
    render_plugin(tmp_path, " HTTPS://Sense.Example.org:8443/stashsense/ ")
    folder = tmp_path / "stash-sense"
    manifest = (folder / "stash-sense.yml").read_text()
    assert csp_origins(manifest) == ["https://sense.example.org:8443"]
    core = (folder / "stash-sense-core.js").read_text()
    assert default_service_url(core) == "https://sense.example.org:8443/stashsense"
    assert TEMPLATE_SERVICE_URL not in manifest + core


def test_the_rendered_manifest_is_a_stash_plugin_with_core_loaded_first(tmp_path: Path) -> None:
    render_plugin(tmp_path, "http://127.0.0.1:8000")
    manifest = yaml.safe_load((tmp_path / "stash-sense" / "stash-sense.yml").read_text())
    assert manifest["name"] == "Stash Sense"
    assert manifest["ui"]["javascript"] == ["stash-sense-core.js", "stash-sense.js"]
    assert manifest["ui"]["css"] == ["stash-sense.css"]
    assert {key: s["type"] for key, s in manifest["settings"].items()} == {
        "serviceUrl": "STRING",
        "apiKey": "STRING",
        "minConfidence": "NUMBER",
    }


@pytest.mark.parametrize(
    "url",
    [
        "ftp://sense.lan",
        "javascript:alert(1)",
        "sense.lan:8000",
        "http://",
        "http://user:pw@sense.lan",
        "http://sense.lan/?x=1",
        "http://sense.lan/#top",
        'http://sense.lan/"onload',
        "http://sense.lan:99999",
        "http://sense lan",
    ],
)
def test_service_urls_that_are_not_plain_http_addresses_are_refused(url: str) -> None:
    with pytest.raises(ApplicationError) as caught:
        plugin_service_url(url)
    assert caught.value.code == "invalid_service_url"


def test_a_template_with_a_second_placeholder_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(PLUGIN_SOURCE_DIR, source)
    manifest = source / "stash-sense.yml"
    manifest.write_text(manifest.read_text() + f"# {TEMPLATE_SERVICE_URL}\n")
    with pytest.raises(ApplicationError, match="2 copies"):
        render_plugin(tmp_path / "out", "http://sense.lan", source_dir=source)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_plugins_node_unit_tests_pass() -> None:
    result = subprocess.run(
        ["node", "--test", "plugin/tests/"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
