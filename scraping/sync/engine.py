"""The sync of one source: list performers page by page, upsert each once, sweep, finish.

Stages, kept in `SyncRun.cursor["stage"]` so a killed run resumes where it was:
- `start`: note the newest upstream `updated` time (the run's watermark: whatever changes
  after it, the next incremental sync sees) and, for incremental runs, where to stop.
- `list`: page through `queryPerformers` (stash-box) or `/performers` (ThePornDB). Full runs
  sort by CREATED_AT ascending, so new performers land at the end instead of shifting pages;
  incremental runs sort by UPDATED_AT descending and stop past the previous watermark minus a
  safety margin. Offset paging over a live database still moves rows: every performer
  becomes a `SyncItem` (unique per run) in the transaction that upserts it, which is both the
  de-duplication and the resume point; when the total shrinks between pages (deletions moved
  rows up) the previous page is read again, and a full run makes another pass, sorted by
  another key, when it saw fewer performers than the upstream count (rows tied on the sort
  key can swap places between two queries).
- `removals` (incremental stash-box runs): the listing never shows performers deleted or
  merged upstream, so applied DESTROY and MERGE edits are read instead, one operation after
  the other (`removals_operation`, `removals_page`), the last closed first, down to the same
  `since`. A destroyed entry we hold is marked deleted; a merge source we hold is re-keyed
  onto the performer it ended in. A server that does not list edits leaves a warning in the
  run's log: full syncs find those removals. Without a `since` (no earlier finished run)
  the stage is skipped: the whole edit history is the full sweep's job.
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
from scraping.sources.stashbox import (
    EditsUnavailable,
    PerformerRemoval,
    RemovalOperation,
    StashBoxClient,
    StashBoxPerformer,
)
from scraping.sources.stashbox.client import PerformerSort, SortDirection
from scraping.sources.theporndb import ThePornDBClient
from scraping.sync.clients import SourceClients
from scraping.sync.options import SyncOptions
from scraping.sync.recorder import Dispatch, ItemRecorder, Progress
from scraping.sync.runs import RunHolder
from scraping.sync.upstream_performer import (
    StashKey,
    from_stashbox,
    from_theporndb,
    source_endpoint,
)
from stashsense.errors import ApplicationError
from stashsense.http import AuthError, NotFoundError, PermanentError

logger = logging.getLogger(__name__)

# Full runs: creation order first (new rows land at the end); when rows tied on it moved
# between pages, names next (rarely equal), then update time.
FULL_PASS_SORTS: tuple[PerformerSort, ...] = ("CREATED_AT", "NAME", "UPDATED_AT")
MAX_PASSES = len(FULL_PASS_SORTS)
SWEEP_BATCH = 200
REMOVAL_OPERATIONS: tuple[RemovalOperation, ...] = ("DESTROY", "MERGE")
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
        self.clients = clients
        self.options = SyncOptions.of(self.run.options)
        self.full = self.run.kind == SyncKind.FULL
        self.endpoint = source_endpoint(self.source)
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
        if self.clients.stashbox is not None:
            top = self.clients.stashbox.query_performers(1, 1, "UPDATED_AT", "DESC")
            self._log_client_warnings()
            newest = top.performers[0].updated if top.performers else None
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
            if self.clients.stashbox is not None:
                partial = self._list_stashbox(self.clients.stashbox)
            else:
                assert self.clients.theporndb is not None
                partial = self._list_theporndb(self.clients.theporndb)
            if partial:
                self._listing_over(partial=True)
                return
            if self._another_pass():
                continue
            break
        if self.full:
            self.holder.save_cursor(stage="sweep", sweep_after=0)
        elif self.clients.stashbox is not None and self._since() is not None:
            self.holder.save_cursor(
                stage="removals", removals_operation=REMOVAL_OPERATIONS[0], removals_page=1
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

    def _list_stashbox(self, client: StashBoxClient) -> bool:
        """Page through the endpoint; True when stopped early by `max_performers`."""
        passes = int(self.cursor.get("passes", 1))
        sort: PerformerSort = FULL_PASS_SORTS[passes - 1] if self.full else "UPDATED_AT"
        direction: SortDirection = "ASC" if self.full else "DESC"
        since = self._since()
        per_page = self.options.page_size
        while True:
            number = int(self.cursor["page"])
            try:
                page = client.query_performers(number, per_page, sort, direction)
            except AuthError:
                raise
            except PermanentError as error:
                if not self._skip_page(number, error):
                    return False
                continue
            self._log_client_warnings()
            previous_count = self.cursor.get("count")
            if previous_count is not None and page.count < previous_count and number > 1:
                # Rows moved up under us: the previous page's tail may hold unseen ones.
                earlier = client.query_performers(number - 1, per_page, sort, direction)
                if self._stashbox_rows(earlier.performers, since):
                    return self.items.limit_reached()
            stop = self._stashbox_rows(page.performers, since)
            if self.items.limit_reached():
                return True
            self._page_done(number, page.count)
            if stop or not page.has_more:
                return False

    def _stashbox_rows(self, rows: list[StashBoxPerformer], since: datetime | None) -> bool:
        """Handle one page's rows; True when the listing should stop here."""
        seen = self.items.seen_ids(p.id for p in rows)
        for performer in rows:
            if since is not None and performer.updated is not None and performer.updated < since:
                return True
            if performer.id in seen:
                continue
            seen.add(performer.id)
            self.items.upsert(from_stashbox(performer, self.endpoint))
            if self.items.limit_reached():
                return True
        return False

    def _list_theporndb(self, client: ThePornDBClient) -> bool:
        per_page = self.options.page_size
        while True:
            number = int(self.cursor["page"])
            try:
                page = client.list_performers(number, per_page)
            except AuthError:
                raise
            except PermanentError as error:
                if not self._skip_page(number, error):
                    return False
                continue
            seen = self.items.seen_ids(row.id for row in page.data)
            for row in page.data:
                if row.id in seen:
                    continue
                seen.add(row.id)
                self._theporndb_row(client, row.id)
                if self.items.limit_reached():
                    return True
            self._page_done(number, page.total, last_page=page.last_page)
            if not page.has_more:
                return False

    def _theporndb_row(self, client: ThePornDBClient, performer_id: str) -> None:
        """List rows are partial: fetch the full record (incremental runs: new ones only)."""
        key = StashKey(self.endpoint, performer_id)
        known = None if self.full else performer_of_entry(key=key)
        if known is not None:
            self.items.unchanged(performer_id, performer=known)
            return
        try:
            performer = client.get_performer(performer_id)
        except AuthError:
            raise
        except NotFoundError:
            self.items.gone(key)
            return
        except PermanentError as error:
            self.items.failed(performer_id, error)
            return
        self.items.upsert(from_theporndb(performer))

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

    def _log_client_warnings(self) -> None:
        client = self.clients.stashbox
        if client is None or len(client.warnings) <= self._warnings_logged:
            return
        for warning in client.warnings[self._warnings_logged :]:
            self.holder.note("warning", warning)
        self._warnings_logged = len(client.warnings)

    # -- removals ----------------------------------------------------------------------------

    def _removals(self) -> None:
        """Performers deleted or merged upstream since `since`, from the edit history."""
        client = self.clients.stashbox
        assert client is not None
        operation: RemovalOperation | None = self.cursor["removals_operation"]
        while operation is not None:
            try:
                partial = self._removals_of(client, operation)
            except AuthError:
                raise
            except EditsUnavailable as error:
                self.holder.note("warning", str(error))
                break
            except PermanentError as error:  # an answer we cannot read: the full sweep remains
                self.holder.note("error", f"{operation} edits not read: {error}", error=True)
                break
            if partial:
                self._listing_over(partial=True)
                return
            operation = _next_removal_operation(operation)
            self.holder.save_cursor(removals_operation=operation, removals_page=1)
        self._listing_over(partial=False)

    def _removals_of(self, client: StashBoxClient, operation: RemovalOperation) -> bool:
        """Page through one operation's edits down to `since`; True when stopped by the limit.

        Sorted by (closed, id) upstream, so pages are stable; an edit closed meanwhile pushes
        rows one page later, where they are met again and skipped.
        """
        since = self._since()
        while True:
            number = int(self.cursor["removals_page"])
            page = client.performer_removals(operation, number, self.options.page_size)
            for removal in page.removals:
                if since is not None and removal.closed is not None and removal.closed < since:
                    return False
                self._removal(client, removal)
                if self.items.limit_reached():
                    return True
            if not page.has_more:
                return False
            self.holder.save_cursor(removals_page=number + 1)

    def _removal(self, client: StashBoxClient, removal: PerformerRemoval) -> None:
        """The entries one edit removed that we hold and this run has not met yet."""
        if removal.operation == "MERGE":
            removed = removal.merge_source_ids
        elif removal.target_id is not None and removal.target_deleted:
            removed = (removal.target_id,)
        else:  # a DESTROY whose target is live again is listed like any live performer
            removed = ()
        held = stash_ids_held(endpoint=self.endpoint, stash_ids=removed)
        if not held:
            return
        unmet = held - self.items.seen_ids(held)
        merged = removal.operation == "MERGE" or removal.target_merged_into_id is not None
        for stash_id in (i for i in removed if i in unmet):
            self._removed_one(client, StashKey(self.endpoint, stash_id), merged=merged)

    def _removed_one(self, client: StashBoxClient, key: StashKey, *, merged: bool) -> None:
        if not merged:
            self.items.gone(key)
            return
        try:
            self._merged_away(client, key)
        except AuthError:
            raise
        except PermanentError as error:  # its merge chain could not be read: record, go on
            self.items.failed(key.stash_id, error)

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
                self._sweep_one(stash_id)
                after = pk
            self.holder.save_cursor(sweep_after=after)
        self._listing_over(partial=False)

    def _sweep_one(self, stash_id: str) -> None:
        key = StashKey(self.endpoint, stash_id)
        if self.clients.theporndb is not None:
            self._theporndb_row(self.clients.theporndb, stash_id)
            return
        client = self.clients.stashbox
        assert client is not None
        try:
            found = client.find_performer(stash_id)
        except AuthError:
            raise
        except PermanentError as error:
            self.items.failed(stash_id, error)
            return
        if found is None or (found.deleted and not found.merged_into_id):
            self.items.gone(key)
        elif found.deleted:
            self._merged_away(client, key)
        else:
            self.items.upsert(from_stashbox(found, self.endpoint))

    def _merged_away(self, client: StashBoxClient, key: StashKey) -> None:
        """`key` was merged upstream: its identity joins the live performer it ended in."""
        final = client.follow_merges(key.stash_id)
        if final is None or final.deleted:
            self.items.gone(key)
            return
        if not self.items.seen_ids([final.id]):
            self.items.upsert(from_stashbox(final, self.endpoint))
        target_key = StashKey(self.endpoint, final.id)
        target = performer_of_entry(key=target_key)
        if target is None:  # the target itself could not be stored: record why, go on
            self.items.failed(key.stash_id, ApplicationError(f"merge target {final.id} is missing"))
            return
        self.items.merged(key, target=target, target_key=target_key)


def _next_removal_operation(operation: RemovalOperation) -> RemovalOperation | None:
    following = REMOVAL_OPERATIONS[REMOVAL_OPERATIONS.index(operation) + 1 :]
    return following[0] if following else None
