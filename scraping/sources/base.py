"""What the sync engine asks of an upstream source: one protocol, the same for every kind.

The engine (`scraping.sync`) knows no kind of source. It asks the registry
(`scraping.sources.registry`) for the implementation of a source's kind and drives it through
`UpstreamSource` alone: list a page of performers (newest changes first when the source can,
so incremental runs stop at the previous watermark), look one performer up by id, follow a
merge, list removals (deletions and merges since a watermark) where the source has them, and
fetch a photo. Every performer crosses the seam as an `UpstreamPerformer`, in our field names
and value ranges; what a kind does differently (stash-box's sort keys, edits and merge chains,
ThePornDB's partial list rows and explicit StashDB links) stays in the kind's folder.

How to add a source
-------------------
1. Copy a sibling folder: `scraping/sources/<name>/` holds the client (every request through
   the `OutboundClient` it is given: the chokepoint brings timeouts, retries, the SSRF guard
   and the source's rate limit), records parsed into typed objects at the edge, and a
   `source.py` whose class implements `UpstreamSource` and converts its records into
   `UpstreamPerformer` (`scraping.sources.normalize` brings values into our ranges).
2. Add a `SourceKind` member in `performers/choices.py` (its migration only alters choices)
   and one line in `scraping.sources.registry.SOURCES` mapping it to the class.
3. Test the client against a fake HTTP server on 127.0.0.1 that follows the real API
   (`fakes/`), and a sync through the real engine (see
   `scraping/tests/test_sources_protocol.py`, which adds a source of its own this way).

Nothing in `scraping.sync` or `scraping.services` changes for a new source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from stashsense.http import OutboundClient, PermanentError


@dataclass(frozen=True)
class StashKey:
    """(endpoint, stash_id): one upstream entry, as Stash keeps it."""

    endpoint: str
    stash_id: str


@dataclass(frozen=True)
class BodyMark:
    kind: str
    location: str
    description: str


@dataclass(frozen=True)
class UpstreamPerformer:
    """A performer as a source describes it, in our field names and value ranges.

    `key` is the entry itself; `linked` are explicit links to entries of other endpoints
    (ThePornDB's StashDB links): the same person, so the same identity. `fields` holds only
    what the source knows (values are never None or empty). `photo_urls` come best first
    (a sync keeps the first few). `merged_ids` are entries the source merged into this one;
    `updated` is the source's update time, None when it keeps none.
    """

    key: StashKey
    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    body_marks: tuple[BodyMark, ...] = ()
    photo_urls: tuple[str, ...] = ()
    linked: tuple[StashKey, ...] = ()
    merged_ids: tuple[str, ...] = ()
    updated: datetime | None = None


@dataclass(frozen=True)
class ListedPerformer:
    """One row of a listing. `performer` is the whole record, or None when the row is partial
    and only a look-up by id gives the rest (ThePornDB's list rows)."""

    id: str
    updated: datetime | None = None
    performer: UpstreamPerformer | None = None


@dataclass(frozen=True)
class ListedPage:
    """One offset page of performers; `count` is the total over all pages at this moment."""

    rows: list[ListedPerformer]
    count: int
    has_more: bool
    last_page: int | None = None


@dataclass(frozen=True)
class LookedUp:
    """What a look-up by id found: a live `performer`; an entry `merged_away` into another
    (`UpstreamSource.merge_target` names it); or neither: deleted, or unknown upstream."""

    performer: UpstreamPerformer | None = None
    merged_away: bool = False


@dataclass(frozen=True)
class Removal:
    """The entries one upstream change took out of the listing: deleted, or `merged`."""

    closed: datetime | None
    stash_ids: tuple[str, ...]
    merged: bool


@dataclass(frozen=True)
class RemovalPage:
    """One page of removals, the most recently closed first."""

    removals: list[Removal]
    has_more: bool


class RemovalsUnavailable(PermanentError):
    """This server cannot list removals (an older stash-box, a key that may not read its
    edits): the run notes it and goes on; full syncs find those removals by their sweep."""


class UpstreamSource(Protocol):
    """One upstream source as the sync engine sees it (see the module docs).

    A method raises `stashsense.http.AuthError` for a rejected key (the run stops),
    `TransientError` for an upstream that stays unreachable (the run can resume), and another
    `PermanentError` for an answer it cannot use (the page or performer is recorded and
    skipped).
    """

    @property
    def endpoint(self) -> str:
        """The endpoint its entries are keyed by (`StashKey.endpoint`)."""
        ...

    @property
    def incremental_listing(self) -> bool:
        """True when the listing can put the most recently updated first and rows carry their
        update time: incremental runs stop at the previous watermark. False: incremental
        runs list everything, and only partial rows we do not hold yet are looked up."""
        ...

    @property
    def removal_listings(self) -> tuple[str, ...]:
        """The names of its removal listings, read one after the other by incremental runs
        (stash-box: DESTROY, then MERGE edits); empty when the source lists none."""
        ...

    @property
    def warnings(self) -> Sequence[str]:
        """What it had to work around so far (e.g. an older server's field set), to log."""
        ...

    def newest_update(self) -> datetime | None:
        """The newest update time upstream: the run's watermark (`incremental_listing` only)."""
        ...

    def list_performers(self, page: int, per_page: int, *, pass_number: int | None) -> ListedPage:
        """Page `page` of the listing. `pass_number` None: the most recently updated first.
        Full runs give 1, 2, 3 for the passes they make when rows moved while paging: a
        stable order where new entries land at the end, then another order where it can."""
        ...

    def look_up(self, stash_id: str) -> LookedUp:
        """The entry by id now, whether live, merged away, or gone."""
        ...

    def merge_target(self, stash_id: str) -> UpstreamPerformer | None:
        """The live performer a merged entry ended in (chains followed); None when it ended
        deleted or unknown."""
        ...

    def removals(self, listing: str, page: int, per_page: int) -> RemovalPage:
        """Page `page` of one of `removal_listings`; `RemovalsUnavailable` when not listed."""
        ...

    def fetch_photo(self, url: str, *, max_bytes: int) -> bytes:
        """The bytes of one of its performers' photo URLs, at the size a sync keeps."""
        ...


# How the registry builds a source: (url, api_key, http) → implementation. The engine builds
# two of each source: one whose client trusts the source's own host, one whose client only
# reaches public addresses (photo URLs on other hosts come from scraped data).
SourceFactory = Callable[[str, str, OutboundClient], UpstreamSource]
