"""Celery tasks of recognition: take ids or names, call one service, own the retry policy."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from recognition import scan as scan_services
from recognition import services
from recognition.models import SceneScan
from scraping.sources.stash.client import StashError
from stashsense.errors import ApplicationError

logger = logging.getLogger(__name__)
SCAN_RETRIES = 8


@shared_task(name="recognition.index_update", acks_late=True, ignore_result=True)
def index_update(profile: str | None = None) -> None:
    services.index_update(profile=profile)


@shared_task(name="recognition.index_build", acks_late=True, ignore_result=True)
def index_build(profile: str | None = None) -> None:
    services.index_build(profile=profile)


@shared_task(name="recognition.scene_scan", bind=True, acks_late=True, ignore_result=True)
def scene_scan(self: Task, scan_id: int) -> None:
    """Drive a library scan; Stash being unreachable is retried later (the scan resumes)."""
    scan = SceneScan.objects.filter(pk=scan_id).first()
    if scan is None:
        return
    try:
        scan_services.scene_scan_execute(scan=scan)
    except StashError as error:
        if error.code != "stash_unreachable" or self.request.retries >= SCAN_RETRIES:
            return  # recorded on the scan as FAILED; `scan_library` resumes it
        raise self.retry(exc=error, countdown=min(3600, 60 * 2**self.request.retries)) from error
    except ApplicationError as error:
        logger.warning("Library scan %s not run: %s", scan_id, error.message)
