"""stash-box endpoints (StashDB, FansDB, PMVStash, JAVStash): GraphQL client, records, source."""

from scraping.sources.stashbox.client import (
    DEFAULT_REQUESTS_PER_MINUTE,
    ImageDownload,
    StashBoxClient,
)
from scraping.sources.stashbox.edits import (
    EditsUnavailable,
    PerformerRemoval,
    RemovalOperation,
    RemovalPage,
)
from scraping.sources.stashbox.performer import (
    BodyModification,
    PerformerPage,
    StashBoxDataError,
    StashBoxImage,
    StashBoxPerformer,
    StashBoxUrl,
)
from scraping.sources.stashbox.source import StashBoxSource

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "BodyModification",
    "EditsUnavailable",
    "ImageDownload",
    "PerformerPage",
    "PerformerRemoval",
    "RemovalOperation",
    "RemovalPage",
    "StashBoxClient",
    "StashBoxDataError",
    "StashBoxImage",
    "StashBoxPerformer",
    "StashBoxSource",
    "StashBoxUrl",
]
