"""A stash-box endpoint as an `UpstreamSource`: sorted listings, merge chains, edit history.

stash-box keeps update times and sorts by them, so incremental runs stop at the watermark.
It never lists deleted or merged performers: its applied DESTROY and MERGE edits say which
entries left the listing, and a merged entry's `merged_into_id` chain leads to the live one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from performers.choices import BodyModificationKind
from scraping.sources import normalize
from scraping.sources.base import (
    BodyMark,
    ListedPage,
    ListedPerformer,
    LookedUp,
    Removal,
    RemovalPage,
    RemovalsUnavailable,
    StashKey,
    UpstreamPerformer,
)
from scraping.sources.stashbox.client import (
    ImageSize,
    PerformerSort,
    SortDirection,
    StashBoxClient,
)
from scraping.sources.stashbox.edits import PerformerRemoval, RemovalOperation
from scraping.sources.stashbox.performer import StashBoxImage, StashBoxPerformer
from stashsense.http import OutboundClient

# Full runs: creation order first (new rows land at the end); when rows tied on it moved
# between pages, names next (rarely equal), then update time.
FULL_PASS_SORTS: tuple[PerformerSort, ...] = ("CREATED_AT", "NAME", "UPDATED_AT")
REMOVAL_OPERATIONS: tuple[RemovalOperation, ...] = ("DESTROY", "MERGE")
_OPERATIONS: dict[str, RemovalOperation] = {
    operation: operation for operation in REMOVAL_OPERATIONS
}
# stash-box scales images on the server: the size a sync keeps.
PHOTO_SIZE: ImageSize = 600


class StashBoxSource:
    """One stash-box endpoint (StashDB, FansDB, …); entries are keyed by its own URL."""

    incremental_listing = True
    removal_listings: tuple[str, ...] = REMOVAL_OPERATIONS

    def __init__(self, url: str, api_key: str, http: OutboundClient) -> None:
        self.endpoint = url
        self.client = StashBoxClient(url, api_key, http)

    @property
    def warnings(self) -> Sequence[str]:
        return self.client.warnings

    def newest_update(self) -> datetime | None:
        top = self.client.query_performers(1, 1, "UPDATED_AT", "DESC")
        return top.performers[0].updated if top.performers else None

    def list_performers(self, page: int, per_page: int, *, pass_number: int | None) -> ListedPage:
        sort: PerformerSort = "UPDATED_AT"
        direction: SortDirection = "DESC"
        if pass_number is not None:
            sort = FULL_PASS_SORTS[min(pass_number, len(FULL_PASS_SORTS)) - 1]
            direction = "ASC"
        # Sorts have no id tie-breaker upstream: the engine de-duplicates rows by id.
        listed = self.client.query_performers(page, per_page, sort, direction)
        rows = [
            ListedPerformer(p.id, p.updated, upstream_performer(p, self.endpoint))
            for p in listed.performers
        ]
        return ListedPage(rows=rows, count=listed.count, has_more=listed.has_more)

    def look_up(self, stash_id: str) -> LookedUp:
        found = self.client.find_performer(stash_id)
        if found is None or (found.deleted and not found.merged_into_id):
            return LookedUp()
        if found.deleted:
            return LookedUp(merged_away=True)
        return LookedUp(performer=upstream_performer(found, self.endpoint))

    def merge_target(self, stash_id: str) -> UpstreamPerformer | None:
        final = self.client.follow_merges(stash_id)
        if final is None or final.deleted:
            return None
        return upstream_performer(final, self.endpoint)

    def removals(self, listing: str, page: int, per_page: int) -> RemovalPage:
        operation = _OPERATIONS.get(listing)
        if operation is None:
            raise RemovalsUnavailable(f"stash-box has no {listing!r} edits", url=self.endpoint)
        edits = self.client.performer_removals(operation, page, per_page)
        return RemovalPage(
            removals=[removal_of(edit) for edit in edits.removals], has_more=edits.has_more
        )

    def fetch_photo(self, url: str, *, max_bytes: int) -> bytes:
        image = StashBoxImage(id="", url=url, width=0, height=0)
        return self.client.fetch_image(image, PHOTO_SIZE, max_bytes=max_bytes).content


def removal_of(edit: PerformerRemoval) -> Removal:
    """The entries an applied edit took out of the listing."""
    if edit.operation == "MERGE":
        removed = edit.merge_source_ids
    elif edit.target_id is not None and edit.target_deleted:
        removed = (edit.target_id,)
    else:  # a DESTROY whose target is live again is listed like any live performer
        removed = ()
    merged = edit.operation == "MERGE" or edit.target_merged_into_id is not None
    return Removal(closed=edit.closed, stash_ids=removed, merged=merged)


def upstream_performer(performer: StashBoxPerformer, endpoint: str) -> UpstreamPerformer:
    fields = normalize.known_fields(
        disambiguation=performer.disambiguation,
        gender=normalize.gender(performer.gender),
        birth_date=normalize.fuzzy_date(performer.birth_date),
        death_date=normalize.fuzzy_date(performer.death_date),
        ethnicity=performer.ethnicity,
        country=performer.country,
        eye_color=performer.eye_color,
        hair_color=performer.hair_color,
        height_cm=normalize.small_int(performer.height),
        breast_type=performer.breast_type,
        career_start_year=normalize.small_int(performer.career_start_year),
        career_end_year=normalize.small_int(performer.career_end_year),
    )
    marks = [
        BodyMark(BodyModificationKind.TATTOO, mark.location, mark.description or "")
        for mark in performer.tattoos
    ] + [
        BodyMark(BodyModificationKind.PIERCING, mark.location, mark.description or "")
        for mark in performer.piercings
    ]
    return UpstreamPerformer(
        key=StashKey(endpoint, performer.id),
        name=performer.name,
        fields=fields,
        aliases=performer.aliases,
        urls=tuple(url.url for url in performer.urls),
        body_marks=tuple(marks),
        photo_urls=tuple(image.url for image in performer.images),
        merged_ids=performer.merged_ids,
        updated=performer.updated,
    )
