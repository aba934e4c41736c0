"""Celery tasks of gallery bundles: the feed check on the beat schedule, and feed updates."""

from __future__ import annotations

import logging

from celery import shared_task

from bundles.feed_updates import bundle_feed_check, bundle_feed_update, bundle_feed_url
from stashsense.errors import ApplicationError
from stashsense.http import OutboundError

logger = logging.getLogger(__name__)


@shared_task(name="bundles.feed_check", ignore_result=True)
def bundle_feed_check_task() -> None:
    """Ask the configured feed what is new; the answer (or the error) is recorded for /health."""
    if not bundle_feed_url():
        return
    try:
        pending = bundle_feed_check()
    except (ApplicationError, OutboundError) as error:
        logger.warning("Bundle feed check failed: %s", error)
        return
    if pending:
        logger.info("Bundle feed offers %s new bundles", len(pending))


@shared_task(name="bundles.feed_update", acks_late=True, ignore_result=True)
def bundle_feed_update_task() -> None:
    """Apply the feed's new bundles (the dashboard's button); failures are recorded, not retried."""
    try:
        update = bundle_feed_update()
    except (ApplicationError, OutboundError) as error:
        logger.warning("Gallery update from the feed failed: %s", error)
        return
    logger.info(
        "Gallery update from the feed: %s bundles, now %s", len(update.applied), update.installed
    )
