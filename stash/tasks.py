"""Celery tasks of the user's Stash: take ids, call one service, own the retry policy.

Task names keep their `recognition.` prefix: scans are inference work and route to the
`recognition` queue, and tasks already queued under that name by an older release still run.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

from stash import library_scans
from stash.client import StashError
from stash.models import SceneScan
from stashsense.errors import ApplicationError

logger = logging.getLogger(__name__)
SCAN_RETRIES = 8


@shared_task(name="recognition.scene_scan", bind=True, acks_late=True, ignore_result=True)
def scene_scan(self: Task, scan_id: int) -> None:
    """Drive a library scan; Stash being unreachable is retried later (the scan resumes)."""
    scan = SceneScan.objects.filter(pk=scan_id).first()
    if scan is None:
        return
    try:
        library_scans.scene_scan_execute(scan=scan)
    except StashError as error:
        if error.code != "stash_unreachable" or self.request.retries >= SCAN_RETRIES:
            return  # recorded on the scan as FAILED; `scan_library` resumes it
        raise self.retry(exc=error, countdown=min(3600, 60 * 2**self.request.retries)) from error
    except ApplicationError as error:
        logger.warning("Library scan %s not run: %s", scan_id, error.message)
