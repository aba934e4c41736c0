"""ThePornDB (REST): client, typed performers, their explicit StashDB links, and the source."""

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
from scraping.sources.theporndb.source import STASHDB_ENDPOINT, THEPORNDB_ENDPOINT, ThePornDBSource

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "STASHDB_ENDPOINT",
    "THEPORNDB_ENDPOINT",
    "Page",
    "TPDBLink",
    "TPDBPerformer",
    "ThePornDBClient",
    "ThePornDBDataError",
    "ThePornDBSource",
    "parse_links",
    "stashdb_ids",
]
