"""Outages of Redis, the broker and the database degrade on purpose instead of answering 500.

Redis and the broker are a redis-server of the test's own (stopped mid-test); the database
outage is a subprocess whose DATABASE_URL points at a closed port. The machine's own Postgres
and Redis are never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from performers.models import Performer, Source
from recognition.tests.gallery_fixtures import FACES, probe_photo
from scraping.choices import RunStatus
from scraping.models import SyncRun
from stashsense.tests.own_redis import OwnRedis, free_port, own_redis

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[OwnRedis]:
    with own_redis(tmp_path) as server:
        yield server


def _identify(client: APIClient, identity: str) -> Any:
    with open(FACES / probe_photo(identity), "rb") as handle:
        return client.post("/api/v1/identify", {"image": handle}, format="multipart")


@pytest.mark.django_db
@pytest.mark.models
def test_identification_with_a_rate_limited_key_keeps_working_when_redis_stops(
    api_client: APIClient, enrolled: dict[str, Performer], redis_server: OwnRedis
) -> None:
    cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url(),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=cache, REDIS_URL=redis_server.url()):
        before = _identify(api_client, "obama")
        assert before.status_code == 200, before.content
        assert redis_server.process.poll() is None

        redis_server.stop()
        after = _identify(api_client, "obama")
        health = api_client.get("/api/v1/health")

    assert after.status_code == 200, after.content  # rate limits fail open
    assert after.json()["faces"][0]["matches"][0]["performer"]["name"] == "obama"
    assert health.status_code == 503
    assert health.json()["down"] == ["cache"]
    assert health.json()["dependencies"]["database"] == "ok"
    assert health["Retry-After"]


@pytest.mark.django_db
def test_health_is_ok_while_every_dependency_answers(
    anonymous_client: APIClient, redis_server: OwnRedis
) -> None:
    with override_settings(REDIS_URL=redis_server.url(0)):
        health = anonymous_client.get("/api/v1/health")

    assert health.status_code == 200
    assert health.json()["down"] == []
    assert health.json()["dependencies"]["cache"] == "ok"
    assert set(health.json()["inference"]) == {"slots", "running", "waiting", "max_waiting"}


@pytest.fixture
def broker_on(redis_server: OwnRedis, monkeypatch: pytest.MonkeyPatch) -> OwnRedis:
    """The project's Celery app publishing to the test's own Redis (not eagerly)."""
    from stashsense.celery import app

    monkeypatch.setitem(app.conf, "broker_url", redis_server.url(1))
    monkeypatch.setitem(app.conf, "broker_write_url", redis_server.url(1))
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_connection_retry_on_startup", False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    return redis_server


@pytest.mark.django_db(transaction=True)
def test_sync_now_with_the_broker_down_says_so_and_leaves_no_pending_run(
    admin_client: Client, broker_on: OwnRedis
) -> None:
    up = Source.objects.create(name="stashdb", kind="stashbox", url="https://stashdb.org/graphql")
    down = Source.objects.create(name="fansdb", kind="stashbox", url="https://fansdb.cc/graphql")
    changelist = reverse("admin:performers_source_changelist")

    queued = admin_client.post(
        changelist, {"action": "sync_incremental", "_selected_action": [up.pk]}, follow=True
    )
    queues = redis.Redis.from_url(broker_on.url(1), decode_responses=True).keys()
    broker_on_keys = " ".join(str(key) for key in queues)
    broker_on.stop()
    refused = admin_client.post(
        changelist, {"action": "sync_incremental", "_selected_action": [down.pk]}, follow=True
    )

    assert queued.status_code == 200
    assert "scraping" in broker_on_keys
    assert SyncRun.objects.get(source=up).status == RunStatus.PENDING
    assert refused.status_code == 200
    assert "task queue (broker) is unreachable" in refused.content.decode()
    run = SyncRun.objects.get(source=down)
    assert run.status == RunStatus.FAILED  # resumable, not "queued" for a task that never comes
    assert "broker" in run.last_error


DATABASE_DOWN_PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
key = {"HTTP_AUTHORIZATION": "Api-Key ss_probe-bootstrap"}
answers = {}
for name, method, path, extra in [
    ("health", "get", "/api/v1/health", {}),
    ("read", "get", "/api/v1/performers", key),
    ("write", "post", "/api/v1/performers/00000000-0000-0000-0000-000000000001/merge", key),
    ("admin_key", "get", "/api/v1/performers", {"HTTP_AUTHORIZATION": "Api-Key ss_other"}),
    ("admin_login", "post", "/admin/login/", {}),
]:
    body = json.dumps({"sources": ["00000000-0000-0000-0000-000000000002"]})
    kwargs = {"data": body, "content_type": "application/json"} if method == "post" else {}
    if name == "admin_login":
        kwargs = {"data": {"username": "admin", "password": "secret"}}
    response = getattr(client, method)(path, **extra, **kwargs)
    answers[name] = {
        "status": response.status_code,
        "retry_after": response.get("Retry-After"),
        "body": response.content.decode()[:500],
    }
print("ANSWERS " + json.dumps(answers))
"""


def test_with_the_database_down_health_and_writes_answer_503_naming_it(
    redis_server: OwnRedis, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stashsense.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/gone",
        "REDIS_URL": redis_server.url(0),
        "CELERY_BROKER_URL": redis_server.url(1),
        "STASHSENSE_API_KEY": "ss_probe-bootstrap",
        "STASHSENSE_DATA_DIR": str(tmp_path),
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", DATABASE_DOWN_PROBE],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("ANSWERS ")]
    assert lines, result.stderr[-3000:]
    answers = json.loads(lines[0].removeprefix("ANSWERS "))

    health = json.loads(answers["health"]["body"])
    assert answers["health"]["status"] == 503
    assert health["down"] == ["database"]
    assert health["dependencies"] == {"database": "down", "cache": "ok", "broker": "ok"}
    for name in ("read", "write", "admin_key", "admin_login"):
        assert answers[name]["status"] == 503, (name, answers[name])
        assert answers[name]["retry_after"], name
    assert json.loads(answers["write"]["body"])["error"]["code"] == "database_unavailable"
    assert "Traceback" not in result.stdout
