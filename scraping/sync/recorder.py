"""Each upstream performer met by a run, written once: graph change + item + counters together.

Whatever the engine meets (a listed performer, one the sweep found deleted or merged, one
that failed) becomes a `SyncItem` in the same transaction as the graph write it caused and
the run's counters and cursor. A run killed at any point therefore either did all of that
for a performer or none of it, and meeting the performer again (a resume, or a row that
moved to the next page) finds its item and skips it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from performers.models import Performer
from scraping.choices import ItemOutcome, ItemState
from scraping.models import SyncItem
from scraping.selectors import performer_holding_version, photo_urls_missing
from scraping.sources.base import StashKey, UpstreamPerformer
from scraping.sync.options import SyncOptions
from scraping.sync.runs import RunHolder, log_entry
from scraping.sync.upsert import (
    performer_upsert_from_upstream,
    stash_id_mark_deleted,
    stash_ids_fold_merged,
)
from stashsense.errors import ApplicationError

logger = logging.getLogger(__name__)

# An upstream record that our graph refuses (bad value, id owned elsewhere): record, go on.
RECORD_ERRORS = (ApplicationError, ValidationError, IntegrityError, ValueError)

Progress = Callable[[int, int], None]
Dispatch = Callable[[SyncItem], None]


class ItemRecorder:
    """Writes a run's items; `dispatch` gets every item that still has work (photos, curation)."""

    def __init__(
        self,
        holder: RunHolder,
        options: SyncOptions,
        *,
        dispatch: Dispatch,
        progress: Progress | None = None,
    ) -> None:
        self.holder = holder
        self.run = holder.run
        self.source = self.run.source
        self.options = options
        self.actor = f"sync:{self.source.name}"
        self.seen = SyncItem.objects.filter(run=self.run).count()
        self._dispatch = dispatch
        self._progress = progress

    def seen_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these upstream ids this run has met already."""
        return set(
            SyncItem.objects.filter(run=self.run, upstream_id__in=list(ids)).values_list(
                "upstream_id", flat=True
            )
        )

    def limit_reached(self) -> bool:
        limit = self.options.max_performers
        return limit is not None and self.seen >= limit

    def upsert(self, upstream: UpstreamPerformer) -> SyncItem:
        """A live performer: skipped when we hold this very version, else upserted."""
        photo_urls = (
            list(upstream.photo_urls[: self.options.max_photos]) if self.options.images else []
        )
        try:
            with transaction.atomic():
                item = self._upsert(upstream, photo_urls)
        except RECORD_ERRORS as error:
            return self.failed(upstream.key.stash_id, error)
        self._after(item)
        return item

    def _upsert(self, upstream: UpstreamPerformer, photo_urls: list[str]) -> SyncItem:
        known = performer_holding_version(key=upstream.key, updated=upstream.updated)
        if known is not None:
            missing = photo_urls_missing(performer=known, urls=photo_urls)
            item = self._create(
                upstream.key.stash_id,
                ItemOutcome.UNCHANGED,
                performer=known,
                photo_urls=missing,
                pending=bool(missing),
            )
            self.holder.commit(cursor={"skipped": self.holder.cursor.get("skipped", 0) + 1})
            return item
        result = performer_upsert_from_upstream(
            upstream=upstream, source=self.source, actor=self.actor
        )
        folded = 0
        if upstream.merged_ids:
            folded = stash_ids_fold_merged(
                source=self.source,
                target=result.performer,
                target_key=upstream.key,
                merged_ids=upstream.merged_ids,
                actor=self.actor,
            )
        item = self._create(
            upstream.key.stash_id,
            ItemOutcome.NEW if result.created else ItemOutcome.UPDATED,
            performer=result.performer,
            photo_urls=photo_urls,
            pending=True,
        )
        self.holder.commit(
            performers_new=int(result.created),
            performers_updated=int(not result.created),
            performers_deleted=folded,
        )
        return item

    def unchanged(self, upstream_id: str, *, performer: Performer) -> None:
        """A performer we hold and need not fetch again (a partial row of an incremental run)."""
        with transaction.atomic():
            item = self._create(upstream_id, ItemOutcome.UNCHANGED, performer=performer)
            self.holder.commit(cursor={"skipped": self.holder.cursor.get("skipped", 0) + 1})
        self._after(item)

    def gone(self, key: StashKey) -> None:
        """Deleted upstream (or unknown there now): the entry is marked deleted."""
        with transaction.atomic():
            performer = stash_id_mark_deleted(key=key)
            item = self._create(key.stash_id, ItemOutcome.DELETED, performer=performer)
            self.holder.commit(performers_deleted=int(performer is not None))
        self._after(item)

    def merged(self, key: StashKey, *, target: Performer, target_key: StashKey) -> None:
        """Merged upstream into `target_key`: the entry's identity joins `target`."""
        with transaction.atomic():
            stash_ids_fold_merged(
                source=self.source,
                target=target,
                target_key=target_key,
                merged_ids=(key.stash_id,),
                actor=self.actor,
            )
            item = self._create(key.stash_id, ItemOutcome.MERGED, performer=target)
            self.holder.commit(performers_deleted=1)
        self._after(item)

    def failed(self, upstream_id: str, error: Exception) -> SyncItem:
        """Recorded (item, log, error count) and skipped; the run goes on."""
        message = f"performer {upstream_id}: {_describe(error)}"
        with transaction.atomic():
            item = self._create(upstream_id, ItemOutcome.FAILED, error=message)
            self.holder.commit(
                log=[log_entry("error", message)], errors=1, last_error=message[:2000]
            )
        logger.warning("sync run %s: %s", self.run.pk, message)
        self._after(item)
        return item

    def _create(
        self,
        upstream_id: str,
        outcome: str,
        *,
        performer: Performer | None = None,
        photo_urls: list[str] | None = None,
        pending: bool = False,
        error: str = "",
    ) -> SyncItem:
        return SyncItem.objects.create(
            run=self.run,
            upstream_id=upstream_id,
            performer=performer,
            outcome=outcome,
            state=ItemState.PENDING if pending else ItemState.DONE,
            photo_urls=photo_urls or [],
            error=error,
            finished_at=None if pending else timezone.now(),
        )

    def _after(self, item: SyncItem) -> None:
        """Once the item's transaction committed: hand its work on, report progress."""
        self.seen += 1
        if item.state == ItemState.PENDING:
            self._dispatch(item)
        if self._progress is not None:
            self._progress(self.seen, self.run.total)


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    if isinstance(error, ApplicationError):
        return error.message
    return str(error) or type(error).__name__
