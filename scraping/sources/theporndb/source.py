"""ThePornDB as an `UpstreamSource`: partial list rows, full records by id, no removal list.

ThePornDB keeps no update time we can sort by: incremental runs list every page and fetch
only the performers we do not hold yet; a performer removed upstream answers 404 to the full
sweep's look-up. Its entries are keyed by one fixed endpoint whatever the API's URL, and its
explicit StashDB links join the StashDB entry's identity.
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
    RemovalPage,
    RemovalsUnavailable,
    StashKey,
    UpstreamPerformer,
)
from scraping.sources.theporndb.client import ThePornDBClient
from scraping.sources.theporndb.performer import TPDBPerformer, stashdb_ids
from stashsense.http import NotFoundError, OutboundClient

STASHDB_ENDPOINT = "https://stashdb.org/graphql"
THEPORNDB_ENDPOINT = "https://theporndb.net/graphql"


class ThePornDBSource:
    """ThePornDB's REST API at `url` (api.theporndb.net, or a stand-in)."""

    endpoint = THEPORNDB_ENDPOINT
    incremental_listing = False
    removal_listings: tuple[str, ...] = ()
    warnings: Sequence[str] = ()

    def __init__(self, url: str, api_key: str, http: OutboundClient) -> None:
        self.client = ThePornDBClient(url, api_key, http)

    def newest_update(self) -> datetime | None:
        return None

    def list_performers(self, page: int, per_page: int, *, pass_number: int | None) -> ListedPage:
        listed = self.client.list_performers(page, per_page)
        # List rows are partial upstream: the look-up by id brings links, posters, extras.
        return ListedPage(
            rows=[ListedPerformer(row.id) for row in listed.data],
            count=listed.total,
            has_more=listed.has_more,
            last_page=listed.last_page,
        )

    def look_up(self, stash_id: str) -> LookedUp:
        try:
            performer = self.client.get_performer(stash_id)
        except NotFoundError:
            return LookedUp()
        return LookedUp(performer=upstream_performer(performer))

    def merge_target(self, stash_id: str) -> UpstreamPerformer | None:
        return None  # ThePornDB reports no merges: `look_up` never answers `merged_away`

    def removals(self, listing: str, page: int, per_page: int) -> RemovalPage:
        raise RemovalsUnavailable("ThePornDB lists no removals: full syncs find them")

    def fetch_photo(self, url: str, *, max_bytes: int) -> bytes:
        return self.client.fetch_image(url, max_bytes=max_bytes)


def upstream_performer(performer: TPDBPerformer) -> UpstreamPerformer:
    fields = normalize.known_fields(
        disambiguation=performer.disambiguation,
        gender=normalize.gender(performer.gender),
        birth_date=normalize.fuzzy_date(performer.birthday),
        ethnicity=performer.ethnicity,
        country=performer.nationality,
        eye_color=performer.eye_colour,
        hair_color=performer.hair_colour,
        height_cm=normalize.small_int(_leading_number(performer.height)),
        career_start_year=normalize.small_int(performer.career_start_year),
        career_end_year=normalize.small_int(performer.career_end_year),
    )
    marks = [
        BodyMark(kind, text, "")
        for kind, text in (
            (BodyModificationKind.TATTOO, performer.tattoos),
            (BodyModificationKind.PIERCING, performer.piercings),
        )
        if text
    ]
    # The pre-cropped face first: it is the one picture that is surely of the performer.
    photos = [performer.face_url, performer.image_url, *performer.poster_urls]
    return UpstreamPerformer(
        key=StashKey(THEPORNDB_ENDPOINT, performer.id),
        name=performer.name,
        fields=fields,
        aliases=performer.aliases,
        urls=tuple(link.url for link in performer.links if link.url.startswith("http")),
        body_marks=tuple(marks),
        photo_urls=tuple(dict.fromkeys(url for url in photos if url)),
        linked=tuple(StashKey(STASHDB_ENDPOINT, stash_id) for stash_id in stashdb_ids(performer)),
    )


def _leading_number(value: str | None) -> int | None:
    """165 from "165cm"."""
    digits = ""
    for char in (value or "").strip():
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None
