"""The operator's console: sync runs (read-only, progress, last error), "sync now" on sources."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from performers.models import Source
from scraping.choices import RunStatus, SyncKind
from scraping.models import SyncRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def source() -> Source:
    return Source.objects.create(name="stashdb", kind="stashbox", url="https://stashdb.org/graphql")


def test_the_run_list_shows_progress_and_the_last_error(
    admin_client: Client, source: Source
) -> None:
    SyncRun.objects.create(
        source=source,
        status=RunStatus.FAILED,
        total=200,
        performers_new=40,
        performers_updated=10,
        last_error="stashdb unreachable: HTTP 502 from stashdb.org",
    )

    page = admin_client.get(reverse("admin:scraping_syncrun_changelist"))

    assert page.status_code == 200
    html = page.content.decode()
    assert '<progress max="100" value="25"></progress> 50/200' in html
    assert "stashdb unreachable: HTTP 502" in html


def test_a_run_can_be_viewed_but_not_changed_or_added(admin_client: Client, source: Source) -> None:
    run = SyncRun.objects.create(source=source, cursor={"stage": "list", "page": 3})

    detail = admin_client.get(reverse("admin:scraping_syncrun_change", args=[run.pk]))
    posted = admin_client.post(
        reverse("admin:scraping_syncrun_change", args=[run.pk]), {"status": "done"}
    )

    assert detail.status_code == 200 and "&quot;page&quot;: 3" in detail.content.decode()
    assert posted.status_code == 403
    assert admin_client.get(reverse("admin:scraping_syncrun_add")).status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING


@pytest.mark.parametrize(
    ("action", "kind"), [("sync_incremental", SyncKind.INCREMENTAL), ("sync_full", SyncKind.FULL)]
)
def test_sync_actions_on_sources_queue_a_run_through_the_service(
    admin_client: Client,
    source: Source,
    action: str,
    kind: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin_client.post(
            reverse("admin:performers_source_changelist"),
            {"action": action, "_selected_action": [source.pk]},
            follow=True,
        )

    run = SyncRun.objects.get()
    assert (run.source, run.kind, run.status) == (source, kind, RunStatus.PENDING)
    assert len(queued) == 1
    assert f"tashdb: {kind} sync run #{run.pk} is pending" in response.content.decode()


def test_the_source_page_still_hides_the_api_key(admin_client: Client, source: Source) -> None:
    source.api_key = "hidden-value"
    source.save()

    page = admin_client.get(reverse("admin:performers_source_change", args=[source.pk]))

    assert page.status_code == 200 and "hidden-value" not in page.content.decode()
