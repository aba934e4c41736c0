"""Holding a run: the atomic claim, the heartbeat, counters and the bounded log.

A run belongs to one process at a time (`SyncRun.worker`, "host:pid"). Every write of the
holder goes through `RunHolder.commit`, guarded by `worker=<me>`: a process that lost the run
(it was presumed dead and taken over) finds out at its next write and stops, and the
transaction it was in rolls back, so nothing is counted twice.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from scraping.choices import RunStatus
from scraping.models import SyncRun

logger = logging.getLogger(__name__)

# A holder writes at least once per performer; this long without a write means it is gone.
HEARTBEAT_STALE = timedelta(minutes=5)
LOG_LIMIT = 200
COUNTERS = (
    "pages",
    "performers_new",
    "performers_updated",
    "performers_deleted",
    "photos",
    "faces",
    "errors",
)


class RunLost(Exception):
    """Another process took this run over; the current one must stop writing."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_is_dead(worker: str) -> bool:
    """True only when `worker` ran on this host and its process is gone (a kill, a reboot)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_is_abandoned(run: SyncRun) -> bool:
    """A RUNNING run whose holder stopped: stale heartbeat, or a dead process on this host."""
    if run.status != RunStatus.RUNNING:
        return False
    stale = run.heartbeat_at is None or run.heartbeat_at < timezone.now() - HEARTBEAT_STALE
    return stale or worker_is_dead(run.worker)


def run_claim(run: SyncRun, worker: str) -> bool:
    """Take the run: PENDING, FAILED (resumable) or abandoned RUNNING ones; atomic."""
    now = timezone.now()
    claimable = Q(status__in=[RunStatus.PENDING, RunStatus.FAILED]) | Q(
        status=RunStatus.RUNNING, worker=worker
    )
    if run_is_abandoned(run):
        claimable |= Q(status=RunStatus.RUNNING, worker=run.worker)
    claimed = SyncRun.objects.filter(claimable, pk=run.pk).update(
        status=RunStatus.RUNNING,
        worker=worker,
        heartbeat_at=now,
        started_at=Coalesce(F("started_at"), now),
        finished_at=None,
    )
    if claimed:
        run.refresh_from_db()
        logger.info("Sync run %s claimed by %s", run.pk, worker)
    return claimed == 1


def log_entry(level: str, message: str) -> dict[str, str]:
    return {"at": timezone.now().isoformat(timespec="seconds"), "level": level, "message": message}


@dataclass
class RunHolder:
    """The process holding a run: the only writer of its cursor and log."""

    run: SyncRun
    worker: str

    @property
    def cursor(self) -> dict[str, Any]:
        return self.run.cursor

    def commit(
        self,
        *,
        cursor: dict[str, Any] | None = None,
        log: list[dict[str, str]] | None = None,
        **changes: Any,
    ) -> None:
        """Write cursor changes, counters (`pages=1` adds one) and fields, as the last step
        of the transaction that did the work they describe."""
        new_cursor = {**self.run.cursor, **(cursor or {})}
        update: dict[str, Any] = {"cursor": new_cursor, "heartbeat_at": timezone.now()}
        for name, value in changes.items():
            update[name] = F(name) + value if name in COUNTERS else value
        new_log = [*self.run.log, *log][-LOG_LIMIT:] if log else None
        if new_log is not None:
            update["log"] = new_log
        updated = SyncRun.objects.filter(pk=self.run.pk, worker=self.worker).update(**update)
        if updated != 1:
            raise RunLost(f"sync run {self.run.pk} is no longer held by {self.worker}")
        self.run.cursor = new_cursor
        if new_log is not None:
            self.run.log = new_log
        for name, value in changes.items():
            if name in COUNTERS:
                setattr(self.run, name, getattr(self.run, name) + value)
            else:
                setattr(self.run, name, value)

    def save_cursor(self, **cursor: Any) -> None:
        with transaction.atomic():
            self.commit(cursor=cursor)

    def note(self, level: str, message: str, *, error: bool = False) -> None:
        """One line in the run's log (and the process log); `error` also counts it."""
        getattr(logger, "error" if level == "error" else "warning")(
            "sync run %s: %s", self.run.pk, message
        )
        with transaction.atomic():
            if error:
                self.commit(log=[log_entry(level, message)], errors=1, last_error=message[:2000])
            else:
                self.commit(log=[log_entry(level, message)])

    def finish(self, status: str, *, last_error: str | None = None) -> None:
        fields: dict[str, Any] = {"status": status, "finished_at": timezone.now()}
        if last_error is not None:
            fields["last_error"] = last_error[:2000]
        SyncRun.objects.filter(pk=self.run.pk, worker=self.worker).update(
            **fields, heartbeat_at=timezone.now()
        )
        self.run.refresh_from_db()
