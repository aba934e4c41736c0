"""The sync of one source: list performers page by page, upsert each once, sweep, finish.

The engine knows no kind of source: it drives the source's `UpstreamSource`
(`scraping.sources.base`), which the registry picked for its kind.

Stages, kept in `SyncRun.cursor["stage"]` so a killed run resumes where it was:
- `start`: for sources whose listing puts the newest changes first, note the newest upstream
  `updated` time (the run's watermark: whatever changes after it, the next incremental sync
  sees) and, for incremental runs, where to stop.
- `list`: page through the source's listing. Full runs ask for a stable order where new
  performers land at the end instead of shifting pages (stash-box: CREATED_AT ascending);
  incremental runs ask for the most recently updated first and stop past the previous
  watermark minus a safety margin (sources without update times list everything and look up
  only the partial rows we do not hold). Offset paging over a live database still moves
  rows: every performer becomes a `SyncItem` (unique per run) in the transaction that upserts
  it, which is both the de-duplication and the resume point; when the total shrinks between
  pages (deletions moved rows up) the previous page is read again, and a full run makes
  another pass, in another order, when it saw fewer performers than the upstream count
  (rows tied on the sort key can swap places between two queries).
- `removals` (incremental runs of sources that list removals, e.g. stash-box's applied
  DESTROY and MERGE edits): the listing never shows performers deleted or merged upstream,
  so the source's removal listings are read instead, one after the other
  (`removals_operation`, `removals_page`), the last closed first, down to the same `since`.
  A deleted entry we hold is marked deleted; a merge source we hold is re-keyed onto the
  performer it ended in. A server that cannot list them leaves a warning in the run's log:
  full syncs find those removals. Without a `since` (no earlier finished run) the stage is
  skipped: the whole history is the full sweep's job.
- `sweep` (full runs): every entry we hold for the endpoint that the listing did not show is
  looked up by id: deleted upstream → marked deleted; merged → re-keyed onto its target.
- `items`: listing is over; the run is DONE when its last item is.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from performers.models import StashId
from scraping.choices import ItemOutcome, SyncKind
from scraping.models import SyncItem
from scraping.selectors import performer_of_entry, source_watermark, stash_ids_held
from scraping.sources.base import ListedPerformer, Removal, RemovalsUnavailable, StashKey
from scraping.sync.clients import SourceClients
from scraping.sync.options import SyncOptions
from scraping.sync.recorder import Dispatch, ItemRecorder, Progress
from scraping.sync.runs import RunHolder
from stashsense.errors import ApplicationError
from stashsense.http import AuthError, PermanentError

logger = logging.getLogger(__name__)

# Full runs read the listing at most this often (pass 1 in a stable order, then others).
MAX_PASSES = 3
SWEEP_BATCH = 200
_LIVE_OUTCOMES = [
    ItemOutcome.NEW,
    ItemOutcome.UPDATED,
    ItemOutcome.UNCHANGED,
    ItemOutcome.FAILED,
]


class SyncEngine:
    """Drives one claimed run through its stages (see the module docs)."""

    def __init__(
        self,
        holder: RunHolder,
        clients: SourceClients,
        *,
        dispatch: Dispatch,
        progress: Progress | None = None,
    ) -> None:
        self.holder = holder
        self.run = holder.run
        self.source = self.run.source
        self.upstream = clients.upstream
        self.options = SyncOptions.of(self.run.options)
        self.full = self.run.kind == SyncKind.FULL
        self.endpoint = clients.endpoint
        self.items = ItemRecorder(holder, self.options, dispatch=dispatch, progress=progress)
        self._warnings_logged = 0

    @property
    def cursor(self) -> dict[str, Any]:
        return self.holder.cursor

    def drive(self) -> None:
        if self.cursor.get("stage", "start") == "start":
            self._start()
        if self.cursor["stage"] == "list":
            self._list()
        if self.cursor["stage"] == "removals":
            self._removals()
        if self.cursor["stage"] == "sweep":
            self._sweep()

    # -- start -------------------------------------------------------------------------------

    def _start(self) -> None:
        newest: datetime | None = None
        since: datetime | None = None
        if self.upstream.incremental_listing:
            newest = self.upstream.newest_update()
            self._log_source_warnings()
            previous = None if self.full else source_watermark(source=self.source)
            margin = timedelta(seconds=self.options.safety_margin_seconds)
            since = previous - margin if previous is not None else None
        self.holder.save_cursor(
            stage="list",
            passes=1,
            page=1,
            count=None,
            skipped=0,
            since=since.isoformat() if since else None,
        )
        with transaction.atomic():
            self.holder.commit(watermark=newest)

    # -- list --------------------------------------------------------------------------------

    def _list(self) -> None:
        while True:
            if self._list_pages():
                self._listing_over(partial=True)
                return
            if self._another_pass():
                continue
            break
        listings = self.upstream.removal_listings
        if self.full:
            self.holder.save_cursor(stage="sweep", sweep_after=0)
        elif listings and self._since() is not None:
            self.holder.save_cursor(
                stage="removals", removals_operation=listings[0], removals_page=1
            )
        else:
            self._listing_over(partial=False)

    def _another_pass(self) -> bool:
        """Full runs only: go round again when the listing showed fewer than upstream has."""
        count = self.cursor.get("count") or 0
        if not self.full or self.cursor.get("passes", 1) >= MAX_PASSES:
            return False
        seen = SyncItem.objects.filter(run=self.run, outcome__in=_LIVE_OUTCOMES).count()
        if seen >= count:
            return False
        self.holder.note(
            "warning", f"saw {seen} of {count} performers (rows moved while paging): another pass"
        )
        self.holder.save_cursor(passes=self.cursor.get("passes", 1) + 1, page=1)
        return True

    def _list_pages(self) -> bool:
        """Page through the listing; True when stopped early by `max_performers`."""
        pass_number = int(self.cursor.get("passes", 1)) if self.full else None
        since = self._since()
        per_page = self.options.page_size
        while True:
            number = int(self.cursor["page"])
            try:
                page = self.upstream.list_performers(number, per_page, pass_number=pass_number)
            except AuthError:
                raise
            except PermanentError as error:
                if not self._skip_page(number, error):
                    return False
                continue
            self._log_source_warnings()
            previous_count = self.cursor.get("count")
            if previous_count is not None and page.count < previous_count and number > 1:
                # Rows moved up under us: the previous page's tail may hold unseen ones.
                earlier = self.upstream.list_performers(
                    number - 1, per_page, pass_number=pass_number
                )
                if self._rows(earlier.rows, since):
                    return self.items.limit_reached()
            stop = self._rows(page.rows, since)
            if self.items.limit_reached():
                return True
            self._page_done(number, page.count, last_page=page.last_page)
            if stop or not page.has_more:
                return False

    def _rows(self, rows: list[ListedPerformer], since: datetime | None) -> bool:
        """Handle one page's rows; True when the listing should stop here."""
        seen = self.items.seen_ids(row.id for row in rows)
        for row in rows:
            if since is not None and row.updated is not None and row.updated < since:
                return True
            if row.id in seen:
                continue
            seen.add(row.id)
            if row.performer is not None:
                self.items.upsert(row.performer)
            else:
                self._partial_row(row.id)
            if self.items.limit_reached():
                return True
        return False

    def _partial_row(self, performer_id: str) -> None:
        """A row without its record: look it up (incremental runs: only ones we lack)."""
        known = None if self.full else performer_of_entry(key=self._key(performer_id))
        if known is not None:
            self.items.unchanged(performer_id, performer=known)
            return
        self._look_up(performer_id)

    def _look_up(self, stash_id: str) -> None:
        """The entry as upstream has it now: upserted, marked deleted, or followed to its merge."""
        try:
            found = self.upstream.look_up(stash_id)
        except AuthError:
            raise
        except PermanentError as error:
            self.items.failed(stash_id, error)
            return
        if found.performer is not None:
            self.items.upsert(found.performer)
        elif found.merged_away:
            self._merged_away(self._key(stash_id))
        else:
            self.items.gone(self._key(stash_id))

    def _skip_page(self, number: int, error: PermanentError) -> bool:
        """Record an unreadable page; True when later pages are known to exist."""
        self.holder.note("error", f"page {number} skipped: {error}", error=True)
        count, last_page = self.cursor.get("count"), self.cursor.get("last_page")
        more = (last_page is not None and number < last_page) or (
            count is not None and number * self.options.page_size < count
        )
        if more:
            self._page_done(number, count or 0)
        return more

    def _page_done(self, number: int, count: int, *, last_page: int | None = None) -> None:
        cursor: dict[str, Any] = {"page": number + 1, "count": count}
        if last_page is not None:
            cursor["last_page"] = last_page
        changes: dict[str, Any] = {"pages": 1}
        if self.full:
            changes["total"] = count
        with transaction.atomic():
            self.holder.commit(cursor=cursor, **changes)

    def _listing_over(self, *, partial: bool) -> None:
        changes: dict[str, Any] = {"total": max(self.run.total, self.items.seen)}
        if partial:
            changes["watermark"] = None  # a partial pass proves nothing about what it skipped
        with transaction.atomic():
            self.holder.commit(cursor={"stage": "items", "partial": partial}, **changes)

    def _since(self) -> datetime | None:
        """Incremental runs: where listing stops (the previous watermark minus the margin)."""
        return parse_datetime(self.cursor["since"]) if self.cursor.get("since") else None

    def _key(self, stash_id: str) -> StashKey:
        return StashKey(self.endpoint, stash_id)

    def _log_source_warnings(self) -> None:
        warnings = self.upstream.warnings
        if len(warnings) <= self._warnings_logged:
            return
        for warning in warnings[self._warnings_logged :]:
            self.holder.note("warning", warning)
        self._warnings_logged = len(warnings)

    # -- removals ----------------------------------------------------------------------------

    def _removals(self) -> None:
        """Performers deleted or merged upstream since `since`, from the removal listings."""
        listing: str | None = self.cursor["removals_operation"]
        while listing is not None:
            try:
                partial = self._removals_of(listing)
            except AuthError:
                raise
            except RemovalsUnavailable as error:
                self.holder.note("warning", str(error))
                break
            except PermanentError as error:  # an answer we cannot read: the full sweep remains
                self.holder.note("error", f"{listing} removals not read: {error}", error=True)
                break
            if partial:
                self._listing_over(partial=True)
                return
            listing = self._next_removal_listing(listing)
            self.holder.save_cursor(removals_operation=listing, removals_page=1)
        self._listing_over(partial=False)

    def _removals_of(self, listing: str) -> bool:
        """Page through one listing down to `since`; True when stopped by the limit.

        Sorted by (closed, id) upstream, so pages are stable; a removal closed meanwhile
        pushes rows one page later, where they are met again and skipped.
        """
        since = self._since()
        while True:
            number = int(self.cursor["removals_page"])
            page = self.upstream.removals(listing, number, self.options.page_size)
            for removal in page.removals:
                if since is not None and removal.closed is not None and removal.closed < since:
                    return False
                self._removal(removal)
                if self.items.limit_reached():
                    return True
            if not page.has_more:
                return False
            self.holder.save_cursor(removals_page=number + 1)

    def _removal(self, removal: Removal) -> None:
        """The entries one removal took out that we hold and this run has not met yet."""
        held = stash_ids_held(endpoint=self.endpoint, stash_ids=removal.stash_ids)
        if not held:
            return
        unmet = held - self.items.seen_ids(held)
        for stash_id in (i for i in removal.stash_ids if i in unmet):
            self._removed_one(self._key(stash_id), merged=removal.merged)

    def _removed_one(self, key: StashKey, *, merged: bool) -> None:
        if not merged:
            self.items.gone(key)
            return
        try:
            self._merged_away(key)
        except AuthError:
            raise
        except PermanentError as error:  # its merge chain could not be read: record, go on
            self.items.failed(key.stash_id, error)

    def _next_removal_listing(self, listing: str) -> str | None:
        listings = self.upstream.removal_listings
        following = listings[listings.index(listing) + 1 :] if listing in listings else ()
        return following[0] if following else None

    # -- sweep -------------------------------------------------------------------------------

    def _sweep(self) -> None:
        """Entries we hold that the listing did not show: deleted, merged, or just missed."""
        after = int(self.cursor.get("sweep_after", 0))
        listed = SyncItem.objects.filter(run=self.run).values("upstream_id")
        while True:
            batch = list(
                StashId.objects.filter(endpoint=self.endpoint, deleted=False, pk__gt=after)
                .exclude(stash_id__in=listed)
                .order_by("pk")
                .values_list("pk", "stash_id")[:SWEEP_BATCH]
            )
            if not batch:
                break
            for pk, stash_id in batch:
                self._look_up(stash_id)
                after = pk
            self.holder.save_cursor(sweep_after=after)
        self._listing_over(partial=False)

    def _merged_away(self, key: StashKey) -> None:
        """`key` was merged upstream: its identity joins the live performer it ended in."""
        final = self.upstream.merge_target(key.stash_id)
        if final is None:
            self.items.gone(key)
            return
        if not self.items.seen_ids([final.key.stash_id]):
            self.items.upsert(final)
        target = performer_of_entry(key=final.key)
        if target is None:  # the target itself could not be stored: record why, go on
            message = f"merge target {final.key.stash_id} is missing"
            self.items.failed(key.stash_id, ApplicationError(message))
            return
        self.items.merged(key, target=target, target_key=final.key)
