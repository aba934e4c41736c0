"""`manage.py stash_plugin`: the plugin folder written for this service's address."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from stash.plugin_files import TEMPLATE_SERVICE_URL


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("stash_plugin", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _written(folder: Path) -> tuple[list[str], str]:
    manifest = yaml.safe_load((folder / "stash-sense" / "stash-sense.yml").read_text())
    core = (folder / "stash-sense" / "stash-sense-core.js").read_text()
    return manifest["ui"]["csp"]["connect-src"], core


def test_the_plugin_is_written_for_the_given_service_url(tmp_path: Path) -> None:
    out, _ = _run("--out", str(tmp_path / "plugins"), "--service-url", "http://Sense.LAN:8000/")

    origins, core = _written(tmp_path / "plugins")
    assert origins == ["http://sense.lan:8000"]
    assert 'const DEFAULT_SERVICE_URL = "http://sense.lan:8000";' in core
    assert "Wrote 4 files" in out and "Reload plugins" in out


def test_the_service_url_defaults_to_the_public_url_setting(tmp_path: Path, settings: Any) -> None:
    settings.STASHSENSE_PUBLIC_URL = "https://sense.example.org/stashsense"
    _run("--out", str(tmp_path))

    origins, core = _written(tmp_path)
    assert origins == ["https://sense.example.org"]
    assert '"https://sense.example.org/stashsense"' in core


def test_without_any_url_the_local_address_is_used_with_a_warning(
    tmp_path: Path, settings: Any
) -> None:
    settings.STASHSENSE_PUBLIC_URL = ""
    _, err = _run("--out", str(tmp_path))

    assert _written(tmp_path)[0] == [TEMPLATE_SERVICE_URL]
    assert "--service-url" in err


def test_a_warning_says_when_no_browser_origin_may_call_the_service(
    tmp_path: Path, settings: Any
) -> None:
    settings.CORS_ALLOWED_ORIGINS = []
    _, err = _run("--out", str(tmp_path), "--service-url", "http://sense:8000")
    assert "STASH_URL" in err and "STASHSENSE_CORS_ORIGINS" in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://sense.lan", "must start with http:// or https://"),
        ("http://sense.lan/?x=1", "query or fragment"),
        ("http://user:pw@sense.lan", "user name or password"),
        ("http://sense.lan:99999", "invalid port"),
    ],
)
def test_a_bad_service_url_is_refused_with_the_reason(
    tmp_path: Path, url: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _run("--out", str(tmp_path), "--service-url", url)
    assert not (tmp_path / "stash-sense").exists()


def test_an_out_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "plugins"
    target.write_text("not a folder")
    with pytest.raises(CommandError, match="is a file"):
        _run("--out", str(target), "--service-url", "http://sense:8000")


def test_a_warning_says_when_the_server_would_refuse_the_service_url(
    tmp_path: Path, settings: Any
) -> None:
    settings.STASHSENSE_ALLOWED_HOSTS = ["private"]
    _, err = _run("--out", str(tmp_path), "--service-url", "https://sense.example.org")
    assert "refuses requests for sense.example.org" in err and "DJANGO_ALLOWED_HOSTS" in err

    _, err = _run("--out", str(tmp_path), "--service-url", "http://192.168.1.5:8000")
    assert "refuses" not in err
