"""Secrets stay secret: source API keys, STASH_API_KEY and STASHSENSE_API_KEY appear in no API
response, no admin or dashboard page, no stored error and no log line, even when the upstreams
fail (bad keys, 5xx) and every logger is at DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from fakes import (
    CannedResponse,
    FakeHttpServer,
    FakeStashBox,
    FakeThePornDB,
    stashbox_schema_dir,
)
from performers.choices import SourceKind
from performers.models import Performer, Source
from performers.services import performer_create, source_upsert
from scraping.models import SyncRun
from scraping.services import sync_run_create, sync_run_execute
from stashsense.http import TransientError
from stashsense.services import api_key_create
from stashsense.tests.fault.routes import api_routes, concrete

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not stashbox_schema_dir().is_dir(),
        reason="stash-box schema specs (../shared/specs) not found",
    ),
]

SOURCE_KEY = "stashbox-key-SECRET-4f1d9c"
WRONG_SOURCE_KEY = "stashbox-wrong-key-SECRET-77ab01"
TPDB_TOKEN = "tpdb-token-SECRET-c3e8a2"
STASH_KEY = "stash-api-key-SECRET-5e6f70"
BOOTSTRAP_KEY = "ss_bootstrap-SECRET-0a1b2c3d"
SECRETS = (SOURCE_KEY, WRONG_SOURCE_KEY, TPDB_TOKEN, STASH_KEY, BOOTSTRAP_KEY)
# Quick retries, so a failing upstream fails the run in well under a second.
FAST_HTTP: dict[str, Any] = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": (2.0, 5.0)}


def leaked(text: str | bytes) -> list[str]:
    value = text.decode(errors="replace") if isinstance(text, bytes) else text
    return [secret for secret in SECRETS if secret in value]


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record of the fixtures and the test, formatted with its traceback if any."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert records, "nothing was logged: the check would prove nothing"
    return "\n".join(formatter.format(record) for record in records)


def source(kind: str, name: str, url: str, key: str) -> Source:
    return source_upsert(name=name, kind=kind, url=url, api_key=key, requests_per_minute=60_000)[0]


def failing_sync(upstream: Source) -> SyncRun:
    run = sync_run_create(source=upstream, full=True, page_size=3, max_photos=1)
    with suppress(TransientError):  # raised again on purpose, so a task can retry
        sync_run_execute(run=run, http_options=FAST_HTTP)
    run.refresh_from_db()
    assert run.last_error, run.status
    return run


@pytest.fixture
def failed_syncs(caplog: pytest.LogCaptureFixture) -> Iterator[list[SyncRun]]:
    """Sources with keys whose syncs failed: upstream 5xx and refused keys, both kinds."""
    caplog.set_level(logging.DEBUG)
    runs = []
    with FakeStashBox(api_key=SOURCE_KEY) as box, FakeThePornDB(token=TPDB_TOKEN) as tpdb:
        box.add_generated_performers(4)
        box.fail_next(100, status=502, path="/graphql")
        runs.append(failing_sync(source(SourceKind.STASHBOX, "box", box.endpoint, SOURCE_KEY)))
        box.clear_faults()
        # Same endpoint: the upsert finds the source by URL and gives it the wrong key.
        wrong = source(SourceKind.STASHBOX, "box", box.endpoint, WRONG_SOURCE_KEY)
        runs.append(failing_sync(wrong))
        tpdb.fail_next(100, status=500)
        runs.append(failing_sync(source(SourceKind.THEPORNDB, "tpdb", tpdb.url, TPDB_TOKEN)))
        yield runs


@pytest.fixture
def stash() -> Iterator[FakeHttpServer]:
    """A Stash that refuses the key, then fails: identification from Stash errors out."""
    with FakeHttpServer() as server:
        server.add_route("POST", "/graphql", CannedResponse(401))
        with override_settings(
            STASH_URL=server.url, STASH_API_KEY=STASH_KEY, STASHSENSE_API_KEY=BOOTSTRAP_KEY
        ):
            yield server


def test_failing_syncs_keep_keys_out_of_logs_and_run_records(
    failed_syncs: list[SyncRun], caplog: pytest.LogCaptureFixture
) -> None:
    assert {run.status for run in failed_syncs} >= {"failed", "auth_failed"}
    assert leaked(logged(caplog)) == []
    for run in SyncRun.objects.all():
        assert leaked(f"{run.last_error} {run.log} {run.cursor} {run.options}") == [], run.pk


def test_api_responses_show_no_secret_even_when_stash_refuses_the_key(
    failed_syncs: list[SyncRun], stash: FakeHttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    performer = performer_create(name="Someone")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {BOOTSTRAP_KEY}")
    responses = [client.get(concrete(route)) for route in api_routes()]
    responses += [
        client.get(f"/api/v1/performers/{performer.pk}"),
        client.get("/api/schema/", HTTP_ACCEPT="application/json"),
        client.post("/api/v1/identify/scene", {"stash_scene_id": "1"}, format="json"),
        client.post("/api/v1/scenes/1/suggestions", {}, format="json"),
        APIClient().get("/api/v1/performers", HTTP_AUTHORIZATION=f"Api-Key {SOURCE_KEY}"),
    ]
    stash.fail_next(5, status=500, body="upstream trouble")
    responses.append(client.post("/api/v1/identify/scene", {"stash_scene_id": "2"}, format="json"))

    assert stash.request_count("/graphql") >= 3
    codes = [r.json()["error"]["code"] for r in responses[-4:]]
    assert codes == ["stash_auth", "stash_auth", "authentication_failed", "stash_unreachable"]
    for response in responses:
        headers = " ".join(f"{k}: {v}" for k, v in response.items())
        assert leaked(response.content) == leaked(headers) == [], response.content[:300]
    assert leaked(logged(caplog)) == []


def admin_pages(model: type[Any]) -> list[str]:
    """The model's changelist, its add page and the change page of its first row."""
    meta = model._meta
    pages = [reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")]
    with suppress(NoReverseMatch):
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
    return pages


def test_admin_and_dashboard_pages_show_no_secret(
    failed_syncs: list[SyncRun], stash: FakeHttpServer, admin_client: Client
) -> None:
    api_key_create(name="plugin", raw_key="ss_plugin-key-SECRET-" + "9" * 20)
    performer_create(name="Someone")
    assert Source.objects.exclude(api_key="").count() >= 2 and Performer.objects.exists()
    pages = [page for model in admin.site._registry for page in admin_pages(model)]
    pages += ["/admin/", reverse("curation:jobs"), reverse("curation:jobs_feed")]
    pages += [reverse("curation:queue"), reverse("curation:quality")]
    for page in pages:
        response = admin_client.get(page)
        # 403: an add page of a read-only model (runs, merge records are made by services).
        assert response.status_code == 200 or (
            page.endswith("/add/") and response.status_code == 403
        ), (
            page,
            response.status_code,
        )
        assert leaked(response.content) == [], page
        assert b"ss_plugin-key-SECRET" not in response.content, page
