"""Holding a sync run: the claim, the heartbeat, counters and the bounded log.

The mechanism is shared with library scans (stashsense/jobs.py); here are the sync run's
counters and its log helpers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from django.db import transaction

from scraping.models import SyncRun
from stashsense.jobs import (
    JobHolder,
    JobLost,
    job_claim,
    job_is_abandoned,
    worker_is_dead,
    worker_name,
)
from stashsense.jobs import log_entry as job_log_entry

logger = logging.getLogger(__name__)

# A holder writes at least once per performer; this long without a write means it is gone.
HEARTBEAT_STALE = timedelta(minutes=5)
__all__ = [
    "HEARTBEAT_STALE",
    "RunHolder",
    "RunLost",
    "log_entry",
    "run_claim",
    "run_is_abandoned",
    "worker_is_dead",
    "worker_name",
]


class RunLost(JobLost):
    """Another process took this run over; the current one must stop writing."""


def run_is_abandoned(run: SyncRun) -> bool:
    """A RUNNING run whose holder stopped: stale heartbeat, or a dead process on this host."""
    return job_is_abandoned(run, stale_after=HEARTBEAT_STALE)


def run_claim(run: SyncRun, worker: str) -> bool:
    """Take the run: PENDING, FAILED (resumable) or abandoned RUNNING ones; atomic."""
    claimed = job_claim(run, worker, stale_after=HEARTBEAT_STALE)
    if claimed:
        logger.info("Sync run %s claimed by %s", run.pk, worker)
    return claimed


def log_entry(level: str, message: str) -> dict[str, str]:
    return job_log_entry(level, message)


@dataclass
class RunHolder(JobHolder):
    """The process holding a run: the only writer of its cursor and log."""

    counters: ClassVar[tuple[str, ...]] = (
        "pages",
        "performers_new",
        "performers_updated",
        "performers_deleted",
        "photos",
        "faces",
        "errors",
    )
    lost: ClassVar[type[JobLost]] = RunLost

    @property
    def run(self) -> SyncRun:
        assert isinstance(self.job, SyncRun)
        return self.job

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
