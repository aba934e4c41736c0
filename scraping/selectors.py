"""Reads of the scraping app: sync runs, their items, and what is due."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from performers.models import Performer, Source, StashId
from recognition.models import SourceImage
from scraping.choices import ItemState, RunStatus
from scraping.models import SyncItem, SyncRun
from scraping.sources.base import StashKey

UNFINISHED = [RunStatus.PENDING, RunStatus.RUNNING, RunStatus.FAILED]


def sync_runs(*, source: Source | None = None) -> QuerySet[SyncRun]:
    """Runs, newest first, with their source (the admin's and the dashboard's list)."""
    runs = SyncRun.objects.select_related("source").order_by("-created_at", "-pk")
    return runs.filter(source=source) if source is not None else runs


def sync_run_unfinished(*, source: Source, kind: str | None = None) -> SyncRun | None:
    """The source's newest run, when it has not finished (pending, running or failed).

    A failed run is unfinished on purpose: running the sync again resumes it from its cursor.
    """
    latest = sync_runs(source=source).exclude(status=RunStatus.CANCELLED)
    if kind is not None:
        latest = latest.filter(kind=kind)
    run = latest.first()
    return run if run is not None and run.status in UNFINISHED else None


def source_watermark(*, source: Source) -> datetime | None:
    """Where the next incremental sync of `source` may start: the newest `updated` time
    that a finished run saw everything up to."""
    run = (
        SyncRun.objects.filter(source=source, status=RunStatus.DONE, watermark__isnull=False)
        .order_by("-watermark")
        .first()
    )
    return run.watermark if run is not None else None


def sync_items_open(*, run: SyncRun) -> QuerySet[SyncItem]:
    return SyncItem.objects.filter(run=run, state__in=[ItemState.PENDING, ItemState.RUNNING])


def sources_to_sync() -> QuerySet[Source]:
    """Enabled sources, for the scheduled incremental syncs."""
    return Source.objects.filter(enabled=True).order_by("priority", "name")


def photo_urls_missing(*, performer: Performer, urls: list[str]) -> list[str]:
    """The photo URLs not yet in the performer's gallery (in their order)."""
    if not urls:
        return []
    present = set(
        SourceImage.objects.filter(performer=performer, url__in=urls).values_list("url", flat=True)
    )
    return [url for url in urls if url not in present]


def performer_of_entry(*, key: StashKey) -> Performer | None:
    """The identity an upstream entry (endpoint, stash_id) belongs to now, if we know it."""
    row = StashId.objects.select_related("performer").filter(
        endpoint=key.endpoint, stash_id=key.stash_id
    )
    found = row.first()
    return found.performer if found is not None else None


def stash_ids_held(*, endpoint: str, stash_ids: Iterable[str]) -> set[str]:
    """Which of these upstream ids we hold as live (not deleted) entries of `endpoint`."""
    return set(
        StashId.objects.filter(
            endpoint=endpoint, stash_id__in=list(stash_ids), deleted=False
        ).values_list("stash_id", flat=True)
    )


def performer_holding_version(*, key: StashKey, updated: datetime | None) -> Performer | None:
    """The identity of a live entry when we already hold exactly this upstream version."""
    if updated is None:
        return None
    found = (
        StashId.objects.select_related("performer")
        .filter(endpoint=key.endpoint, stash_id=key.stash_id, upstream_updated_at=updated)
        .filter(deleted=False)
        .first()
    )
    return found.performer if found is not None else None
