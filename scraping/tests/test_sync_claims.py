"""Holding a run: the atomic claim, taking over abandoned runs, and losing a run."""

from __future__ import annotations

import socket
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from performers.models import Source
from scraping.choices import RunStatus
from scraping.models import SyncRun
from scraping.services import sync_run_execute
from scraping.sync.runs import HEARTBEAT_STALE, RunHolder, RunLost, run_claim
from stashsense.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def run() -> SyncRun:
    source = Source.objects.create(name="box", kind="stashbox", url="https://box.example/graphql")
    return SyncRun.objects.create(source=source)


def _running(run: SyncRun, worker: str, *, heartbeat_age: timedelta = timedelta()) -> SyncRun:
    SyncRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, worker=worker, heartbeat_at=timezone.now() - heartbeat_age
    )
    run.refresh_from_db()
    return run


def _dead_local_worker() -> str:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return f"{socket.gethostname()}:{finished.pid}"


def test_a_pending_run_is_claimed_by_exactly_one_worker(run: SyncRun) -> None:
    first = run_claim(run, "host-a:1")
    second = run_claim(SyncRun.objects.get(pk=run.pk), "host-b:2")

    assert (first, second) == (True, False)
    run.refresh_from_db()
    assert (run.status, run.worker) == (RunStatus.RUNNING, "host-a:1")
    assert run.started_at is not None and run.heartbeat_at is not None


def test_a_running_run_with_a_fresh_heartbeat_is_left_to_its_holder(run: SyncRun) -> None:
    run = _running(run, "elsewhere:42")

    assert not run_claim(run, "host-b:2")
    with pytest.raises(ApplicationError) as raised:
        sync_run_execute(run=run)
    assert raised.value.code == "sync_run_busy"


def test_a_running_run_with_a_stale_heartbeat_is_resumed(run: SyncRun) -> None:
    run = _running(run, "elsewhere:42", heartbeat_age=HEARTBEAT_STALE + timedelta(seconds=5))

    assert run_claim(run, "host-b:2")
    run.refresh_from_db()
    assert run.worker == "host-b:2"


def test_a_run_whose_process_died_on_this_machine_is_resumed_at_once(run: SyncRun) -> None:
    run = _running(run, _dead_local_worker())

    assert run_claim(run, "host-b:2")


def test_a_failed_run_is_resumed_by_the_next_claim(run: SyncRun) -> None:
    SyncRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, cursor={"stage": "list"})

    assert run_claim(run, "host-b:2")
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.cursor == {"stage": "list"}


def test_a_holder_that_lost_its_run_stops_at_its_next_write(run: SyncRun) -> None:
    assert run_claim(run, "host-a:1")
    holder = RunHolder(run, "host-a:1")
    SyncRun.objects.filter(pk=run.pk).update(worker="host-b:2")  # taken over meanwhile

    with pytest.raises(RunLost):
        holder.save_cursor(page=7)
    run.refresh_from_db()
    assert "page" not in run.cursor
