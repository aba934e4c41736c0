"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

# The enrolled gallery (`enrolled`) and fresh in-process galleries, for every app's tests.
pytest_plugins = ["recognition.tests.gallery_fixtures"]

REPO_ROOT = Path(__file__).resolve().parent
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is not beside the repository ({SHARED})")
    return SHARED


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
