"""Celery tasks of scraping: take ids, call one service, own the retry policy.

Syncs run on the `scraping` queue; the photo work of their items (download, detect, embed)
on the `recognition` queue, so CPU-bound workers can be scaled apart from the I/O-bound one.
Both are acks_late (settings): a worker killed mid-task gets the task again, and the
services resume from the run's cursor / the item's state.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from scraping import services
from scraping.models import SyncItem, SyncRun
from scraping.sync.runs import HEARTBEAT_STALE
from stashsense.errors import ApplicationError
from stashsense.http import TransientError

# Item work is CPU-bound face work: it goes where the recognition workers listen.
PHOTO_QUEUE = "recognition"


@shared_task(
    bind=True,
    name="scraping.sync_run",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(TransientError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def sync_run(self: Task[Any, Any], run_id: int) -> None:
    """Drive a sync run; an unreachable upstream is retried later (the run resumes).

    A run still held by another worker (e.g. this task redelivered after its first worker
    died on another machine) is tried again once that holder's heartbeat can go stale.
    """
    run = SyncRun.objects.select_related("source").filter(pk=run_id).first()
    if run is None:
        return
    try:
        services.sync_run_execute(run=run, dispatch="tasks")
    except ApplicationError as error:
        if error.code != "sync_run_busy":
            raise
        raise self.retry(countdown=HEARTBEAT_STALE.total_seconds(), max_retries=12) from error


@shared_task(name="scraping.sync_item", acks_late=True, ignore_result=True)
def sync_item(item_id: int) -> None:
    """Photos → faces for one performer of a run (errors per photo are recorded, not raised)."""
    item = SyncItem.objects.select_related("run__source").filter(pk=item_id).first()
    if item is not None:
        services.sync_item_execute(item=item)


@shared_task(name="scraping.sync_due_sources", ignore_result=True)
def sync_due_sources() -> None:
    """Beat: queue an incremental sync of every enabled source."""
    services.sync_runs_schedule()


@shared_task(name="scraping.resume_abandoned_runs", ignore_result=True)
def resume_abandoned_runs() -> None:
    """Beat: runs whose holder died are queued again (a new worker takes them over)."""
    services.sync_runs_resume_abandoned()
