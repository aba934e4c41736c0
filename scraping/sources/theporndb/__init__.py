"""ThePornDB (REST): client, typed performers and their explicit StashDB links."""

from scraping.sources.theporndb.client import (
    DEFAULT_BASE_URL,
    DEFAULT_REQUESTS_PER_MINUTE,
    ThePornDBClient,
)
from scraping.sources.theporndb.performer import (
    Page,
    ThePornDBDataError,
    TPDBLink,
    TPDBPerformer,
    parse_links,
    stashdb_ids,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "Page",
    "TPDBLink",
    "TPDBPerformer",
    "ThePornDBClient",
    "ThePornDBDataError",
    "parse_links",
    "stashdb_ids",
]
