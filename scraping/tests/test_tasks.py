"""Celery: tasks take ids and call services; a real worker runs a sync end to end; beat."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from fakes import FakeStashBox
from performers.models import Performer, Source
from recognition.models import Face
from scraping import tasks
from scraping.choices import ItemState, RunStatus, SyncKind
from scraping.models import SyncItem, SyncRun
from scraping.services import (
    sync_run_create,
    sync_run_enqueue,
    sync_run_execute,
    sync_runs_schedule,
)
from scraping.tests.test_sync_support import PEOPLE, needs_specs, photos, stashbox_source


def test_beat_runs_incremental_syncs_at_the_configured_interval() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["scraping-incremental-syncs"]
    assert entry["task"] == "scraping.sync_due_sources"
    assert entry["schedule"] == settings.SYNC_INTERVAL_MINUTES * 60
    assert "scraping.sync_due_sources" in tasks.sync_due_sources.name


@pytest.mark.django_db
def test_the_schedule_queues_one_incremental_run_per_enabled_source_and_no_second_one(
    django_capture_on_commit_callbacks: Any,
) -> None:
    stashdb = Source.objects.create(name="a", kind="stashbox", url="https://a.example/graphql")
    Source.objects.create(name="b", kind="stashbox", url="https://b.example/graphql", enabled=False)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = sync_runs_schedule()
        again = sync_runs_schedule()

    assert [run.source for run in first] == [stashdb]
    assert first[0].kind == SyncKind.INCREMENTAL and first[0].status == RunStatus.PENDING
    assert again == first  # still pending: not queued twice
    assert len(queued) == 1
    assert SyncRun.objects.count() == 1


@needs_specs
@pytest.mark.django_db
def test_the_sync_run_task_takes_an_id_and_drives_the_run(box: FakeStashBox) -> None:
    box.add_generated_performers(3)
    source = stashbox_source(box)
    run = sync_run_create(source=source, full=True, images=False, page_size=2)

    tasks.sync_run.apply(args=(run.pk,)).get()

    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.performers_new == 3


@needs_specs
@pytest.mark.django_db
def test_item_tasks_in_one_worker_reuse_its_connection_to_the_source(
    box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    for n in range(3):
        box.add_performer(f"P{n}", images=photos(PEOPLE[n], 1))
    source = stashbox_source(box)
    run = sync_run_execute(run=sync_run_create(source=source, full=True), dispatch="defer")
    box.reset_requests()
    first, second, third = SyncItem.objects.filter(run=run).order_by("pk")

    for item in (first, second):
        tasks.sync_item.apply(args=(item.pk,)).get()
    Source.objects.filter(pk=source.pk).update(api_key="rotated-key")  # a changed source...
    box.api_key = "rotated-key"
    tasks.sync_item.apply(args=(third.pk,)).get()

    ports = [request.peer_port for request in box.requests_to("/images/")]
    assert len(ports) == 3
    assert ports[0] == ports[1]  # one kept-alive connection from task to task
    assert ports[2] != ports[1]  # ...gets clients of its own
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.faces == Face.objects.count() >= 2


@pytest.fixture
def celery_broker(redis_server: str) -> Iterator[Any]:
    """The project's Celery app on the machine's Redis broker, queues emptied."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("needs CELERY_BROKER_URL: tasks run eagerly without a broker")
    from stashsense.celery import app

    with app.connection_for_write() as connection:
        for queue in ("scraping", "recognition"):
            # A queue that was never declared has nothing to purge.
            with contextlib.suppress(Exception):
                connection.default_channel.queue_purge(queue)  # type: ignore[attr-defined]
    yield app


@needs_specs
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_runs_a_queued_sync_end_to_end(
    celery_broker: Any, box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    from celery.contrib.testing.worker import start_worker

    ids = [box.add_performer(f"P{n}", images=photos(PEOPLE[n], 1)) for n in range(3)]
    source = stashbox_source(box)
    # Connections the worker thread opens must close after each task (or the test
    # database could not be dropped at the end).
    connections["default"].settings_dict["CONN_MAX_AGE"] = 0

    with start_worker(
        celery_broker,
        queues=["scraping", "recognition"],
        perform_ping_check=False,
        shutdown_timeout=60,
    ):
        run = sync_run_enqueue(source=source, full=True, page_size=2, max_photos=1)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status not in (RunStatus.PENDING, RunStatus.RUNNING):
                break
            time.sleep(0.2)

    assert run.status == RunStatus.DONE, run.last_error
    assert (run.performers_new, run.faces) == (3, 3)
    items = SyncItem.objects.filter(run=run)
    assert sorted(items.values_list("upstream_id", flat=True)) == sorted(ids)
    assert set(items.values_list("state", flat=True)) == {ItemState.DONE}
    assert Performer.objects.count() == 3 and Face.objects.count() == 3
