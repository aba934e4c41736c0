"""CORS: only the configured Stash origins may call the API from a browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.test import Client

from recognition.tests.engine.support import REPO_ROOT

STASH = "http://stash.lan:9999"
OTHER = "http://evil.example"


@pytest.fixture
def cors(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [STASH]


def test_the_stash_origin_gets_cors_headers_on_the_api(client: Client, cors: None) -> None:
    response = client.get("/api/v1/health", HTTP_ORIGIN=STASH)
    assert response["Access-Control-Allow-Origin"] == STASH


def test_another_origin_gets_no_cors_headers(client: Client, cors: None) -> None:
    response = client.get("/api/v1/health", HTTP_ORIGIN=OTHER)
    assert "Access-Control-Allow-Origin" not in response


def test_a_preflight_with_the_api_key_headers_is_allowed(client: Client, cors: None) -> None:
    response = client.options(
        "/api/v1/feedback",
        HTTP_ORIGIN=STASH,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, x-api-key, content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == STASH
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "x-api-key", "content-type"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_a_preflight_from_another_origin_is_not_allowed(client: Client, cors: None) -> None:
    response = client.options(
        "/api/v1/identify/scene",
        HTTP_ORIGIN=OTHER,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert "Access-Control-Allow-Origin" not in response


def test_pages_outside_the_api_never_get_cors_headers(client: Client, cors: None) -> None:
    response = client.get("/admin/login/", HTTP_ORIGIN=STASH)
    assert "Access-Control-Allow-Origin" not in response


def _origins_from(environment: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STASH", "DJANGO_SETTINGS"))}
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps(settings.CORS_ALLOWED_ORIGINS))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "stashsense.settings", **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    origins: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return origins


def test_the_allowed_origins_come_from_stash_url_or_the_explicit_list() -> None:
    assert _origins_from({"STASH_URL": "http://stash.lan:9999/"}) == [STASH]
    explicit = {"STASH_URL": STASH, "STASHSENSE_CORS_ORIGINS": "https://a.example, http://b:1/"}
    assert _origins_from(explicit) == ["https://a.example", "http://b:1"]
    assert _origins_from({}) == []
