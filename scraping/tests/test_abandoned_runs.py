"""Runs whose holder died are shown stale and queued again by beat within minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from performers.models import Source
from scraping.choices import RunStatus
from scraping.models import SyncRun
from scraping.services import sync_runs_resume_abandoned
from scraping.sync.runs import HEARTBEAT_STALE, run_claim

pytestmark = pytest.mark.django_db


def _running(source: Source, worker: str, heartbeat_age: timedelta) -> SyncRun:
    run = SyncRun.objects.create(source=source)
    SyncRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, worker=worker, heartbeat_at=timezone.now() - heartbeat_age
    )
    run.refresh_from_db()
    return run


@pytest.fixture
def source() -> Source:
    return Source.objects.create(name="box", kind="stashbox", url="https://box.example/graphql")


def test_beat_queues_a_run_with_a_stale_heartbeat_again_and_a_new_worker_takes_it(
    source: Source, django_capture_on_commit_callbacks: Any
) -> None:
    stale = _running(source, "gone-host:4242", HEARTBEAT_STALE + timedelta(seconds=30))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        resumed = sync_runs_resume_abandoned()

    assert [run.pk for run in resumed] == [stale.pk]
    assert len(queued) == 1  # the task that a live worker will pick up
    assert run_claim(SyncRun.objects.get(pk=stale.pk), "new-host:1")
    assert SyncRun.objects.get(pk=stale.pk).worker == "new-host:1"


def test_beat_leaves_a_run_with_a_live_holder_alone(
    source: Source, django_capture_on_commit_callbacks: Any
) -> None:
    _running(source, "busy-host:1", timedelta(seconds=10))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        resumed = sync_runs_resume_abandoned()

    assert resumed == [] and queued == []


def test_the_run_list_shows_a_stale_holder(admin_client: Client, source: Source) -> None:
    _running(source, "gone-host:4242", HEARTBEAT_STALE + timedelta(minutes=1))
    other = Source.objects.create(name="b2", kind="stashbox", url="https://b2.example/graphql")
    _running(other, "busy-host:1", timedelta(seconds=10))

    html = admin_client.get(reverse("admin:scraping_syncrun_changelist")).content.decode()

    assert "stale: gone-host:4242 silent since" in html
    assert "alive" in html
