"""Which implementation of `UpstreamSource` serves each `SourceKind`: one line per source."""

from __future__ import annotations

from performers.choices import SourceKind
from scraping.sources.base import SourceFactory
from scraping.sources.stashbox import StashBoxSource
from scraping.sources.theporndb import ThePornDBSource
from stashsense.errors import ApplicationError

SOURCES: dict[str, SourceFactory] = {
    SourceKind.STASHBOX: StashBoxSource,
    SourceKind.THEPORNDB: ThePornDBSource,
}


def source_factory(kind: str) -> SourceFactory:
    """The implementation of `kind`; an `ApplicationError` (400) for a kind without one."""
    try:
        return SOURCES[kind]
    except KeyError:
        raise ApplicationError(
            f"No upstream implementation for source kind {kind!r}.", code="source_kind"
        ) from None
