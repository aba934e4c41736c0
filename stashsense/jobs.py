"""Long jobs held by one process at a time: sync runs, library scans.

A job row names its holder (`worker`, "host:pid"). Taking it is one conditional UPDATE; every
later write of the holder is guarded by `worker=<me>`, so a process that lost the job (presumed
dead and taken over) finds out at its next write, raises, and the transaction it was in rolls
back: nothing is counted twice. A RUNNING job whose heartbeat is stale, or whose process is
gone from this host, may be taken over.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

PENDING, RUNNING, FAILED = "pending", "running", "failed"


class JobLost(Exception):
    """Another process took this job over; the current one must stop writing."""


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


def job_is_abandoned(job: Any, *, stale_after: timedelta) -> bool:
    """RUNNING, but its holder stopped: stale heartbeat, or a dead process on this host."""
    if job.status != RUNNING:
        return False
    stale = job.heartbeat_at is None or job.heartbeat_at < timezone.now() - stale_after
    return stale or worker_is_dead(job.worker)


def job_claim(job: Any, worker: str, *, stale_after: timedelta) -> bool:
    """Take the job: PENDING, FAILED (resumable) or abandoned RUNNING ones; atomic."""
    now = timezone.now()
    claimable = Q(status__in=[PENDING, FAILED]) | Q(status=RUNNING, worker=worker)
    job.refresh_from_db()
    if job_is_abandoned(job, stale_after=stale_after):
        claimable |= Q(status=RUNNING, worker=job.worker)
    claimed = (
        type(job)
        ._default_manager.filter(claimable, pk=job.pk)
        .update(
            status=RUNNING,
            worker=worker,
            heartbeat_at=now,
            started_at=Coalesce(F("started_at"), now),
            finished_at=None,
        )
    )
    job.refresh_from_db()
    return claimed == 1


def log_entry(level: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "at": timezone.now().isoformat(timespec="seconds"),
        "level": level,
        **extra,
        "message": message,
    }


@dataclass
class JobHolder:
    """The process holding a job: the only writer of its cursor, counters and log."""

    job: models.Model
    worker: str

    counters: ClassVar[tuple[str, ...]] = ()
    lost: ClassVar[type[JobLost]] = JobLost
    log_limit: ClassVar[int] = 200

    @property
    def cursor(self) -> dict[str, Any]:
        return self.job.cursor  # type: ignore[attr-defined]

    def commit(
        self,
        *,
        cursor: dict[str, Any] | None = None,
        log: list[dict[str, Any]] | None = None,
        **changes: Any,
    ) -> None:
        """Move the cursor, add to counters (`errors=1` adds one), set fields: the last step
        of the transaction that did the work they describe."""
        job: Any = self.job
        new_cursor = {**job.cursor, **(cursor or {})}
        update: dict[str, Any] = {"cursor": new_cursor, "heartbeat_at": timezone.now()}
        for name, value in changes.items():
            update[name] = F(name) + value if name in self.counters else value
        new_log = [*job.log, *log][-self.log_limit :] if log else None
        if new_log is not None:
            update["log"] = new_log
        if type(job)._default_manager.filter(pk=job.pk, worker=self.worker).update(**update) != 1:
            raise self.lost(f"{job._meta.verbose_name} {job.pk} is no longer held by {self.worker}")
        job.cursor = new_cursor
        if new_log is not None:
            job.log = new_log
        for name, value in changes.items():
            setattr(job, name, getattr(job, name) + value if name in self.counters else value)

    def finish(self, status: str, *, last_error: str | None = None) -> None:
        fields: dict[str, Any] = {"status": status, "finished_at": timezone.now()}
        if last_error is not None:
            fields["last_error"] = last_error[:2000]
        type(self.job)._default_manager.filter(pk=self.job.pk, worker=self.worker).update(
            **fields, heartbeat_at=timezone.now()
        )
        self.job.refresh_from_db()


def job_cancel(model: type[models.Model], pk: int, *, status: str, reason: str) -> bool:
    """Stop a pending or running job; False when it had already ended. Its holder, if any,
    finds out at its next write (the guard on `worker` fails: JobLost) and stops there."""
    now = timezone.now()
    stopped = model._default_manager.filter(pk=pk, status__in=[PENDING, RUNNING]).update(
        status=status, worker="", finished_at=now, heartbeat_at=now, last_error=reason[:2000]
    )
    return stopped == 1
