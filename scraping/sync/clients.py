"""The upstream clients of one source: its API client, and photo downloads that stay polite.

Every client of a source shares one rate limiter (Redis when configured, so every worker on
every machine adds up to the source's requests per minute). Photo URLs come from scraped data:
those on the source's own host go through the API's client, any other host only through a
client whose SSRF guard admits public addresses alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from performers.choices import SourceKind
from performers.models import Source
from scraping.sources.stashbox import StashBoxClient, StashBoxImage
from scraping.sources.stashbox.client import ImageSize
from scraping.sources.theporndb import ThePornDBClient
from stashsense.http import OutboundClient, host_of
from stashsense.ratelimit import RateLimiter, rate_limiter_for

PHOTO_MAX_BYTES = 15 * 1024 * 1024
PHOTO_SIZE: ImageSize = 600


@dataclass
class SourceClients:
    """What a sync needs to talk to one source."""

    source: Source
    stashbox: StashBoxClient | None
    theporndb: ThePornDBClient | None
    _guarded_stashbox: StashBoxClient | None
    _guarded_theporndb: ThePornDBClient | None
    _https: tuple[OutboundClient, ...]

    def fetch_photo(self, url: str) -> bytes:
        """One photo at the size we keep (stash-box resizes on the server to 600 px)."""
        own_host = host_of(url).lower() == host_of(self.source.url).lower()
        if self.stashbox is not None and self._guarded_stashbox is not None:
            client = self.stashbox if own_host else self._guarded_stashbox
            image = StashBoxImage(id="", url=url, width=0, height=0)
            return client.fetch_image(image, PHOTO_SIZE, max_bytes=PHOTO_MAX_BYTES).content
        assert self.theporndb is not None and self._guarded_theporndb is not None
        tpdb = self.theporndb if own_host else self._guarded_theporndb
        return tpdb.fetch_image(url, max_bytes=PHOTO_MAX_BYTES)

    def close(self) -> None:
        for http in self._https:
            http.close()


def source_rate_limiter(source: Source) -> RateLimiter:
    return rate_limiter_for(
        source.name, float(source.requests_per_minute or 1), settings.REDIS_URL or None
    )


def clients_for(source: Source, **http_options: Any) -> SourceClients:
    """Clients for `source`; `http_options` go to `OutboundClient` (tests shorten backoff)."""
    limiter = source_rate_limiter(source)
    trusted = OutboundClient(rate_limiter=limiter, **http_options)
    guarded = OutboundClient(rate_limiter=limiter, ssrf_guard=True, **http_options)
    if source.kind == SourceKind.THEPORNDB:
        return SourceClients(
            source=source,
            stashbox=None,
            theporndb=ThePornDBClient(source.url, source.api_key, trusted),
            _guarded_stashbox=None,
            _guarded_theporndb=ThePornDBClient(source.url, source.api_key, guarded),
            _https=(trusted, guarded),
        )
    return SourceClients(
        source=source,
        stashbox=StashBoxClient(source.url, source.api_key, trusted),
        theporndb=None,
        _guarded_stashbox=StashBoxClient(source.url, source.api_key, guarded),
        _guarded_theporndb=None,
        _https=(trusted, guarded),
    )
