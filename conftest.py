"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from recognition.configured_profile import profile_for
from stashsense.errors import ApplicationError
from stashsense.tests.databases import SubprocessDatabase, subprocess_database_in

# The enrolled gallery (`enrolled`) and fresh in-process galleries, for every app's tests.
pytest_plugins = ["recognition.tests.gallery_fixtures", "recognition.tests.scene_video_fixtures"]

REPO_ROOT = Path(__file__).resolve().parent
SHARED = REPO_ROOT.parent / "shared"
FACES = SHARED / "faces"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is not beside the repository ({SHARED})")
    return SHARED


@pytest.fixture
def faces_dir(shared_dir: Path) -> Path:
    """../shared/faces, the real photos (one folder per identity), or a skip."""
    if not FACES.is_dir():
        pytest.skip(f"no photos at {FACES}")
    return FACES


@pytest.fixture
def face_models() -> None:
    """The real face models (`manage.py fetch_models`), or a skip that says why."""
    try:
        profile_for()
    except ApplicationError as error:
        pytest.skip(f"face models missing: {error.message}")


@pytest.fixture
def subprocess_database(tmp_path: Path) -> SubprocessDatabase:
    """The database a test's `manage.py` subprocesses should use (see SubprocessDatabase)."""
    return subprocess_database_in(tmp_path)


@pytest.fixture
def curator(django_user_model: Any) -> Any:
    """A staff user: what the dashboard and the admin ask for."""
    return django_user_model.objects.create_user("curator", password="pw", is_staff=True)


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Headless Chromium (a Playwright Browser), or a skip. Ask for it after `live_server` or
    a fake server, so it closes (and its keep-alive connections end) before they stop."""
    if not CHROMIUM.exists():
        pytest.skip(f"needs {CHROMIUM}")
    from playwright.sync_api import sync_playwright  # a dev requirement; only browser tests

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
        # The ORM calls made while Playwright's loop ran used a connection of that context:
        # close it while the loop still runs, or PostgreSQL refuses to drop the test database
        # at the end of the session.
        connections.close_all()


@pytest.fixture
def api_key(db: None) -> str:
    from stashsense.services import api_key_create

    _, raw = api_key_create(name="tests")
    return raw


@pytest.fixture
def api_client(api_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The machine's Redis, or a skip that says why."""
    url = redis_url()
    if not url or not url.startswith("redis"):
        pytest.skip("needs Redis: set REDIS_URL (CI sets it to the machine's Redis)")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {url} is not reachable: {error}")
    yield url
