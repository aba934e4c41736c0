"""The upstream clients of one source: its implementation, and photo downloads that stay polite.

Every client of a source shares one rate limiter (Redis when configured, so every worker on
every machine adds up to the source's requests per minute). Photo URLs come from scraped data:
those on the source's own host go through the API's client, any other host only through a
client whose SSRF guard admits public addresses alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from performers.models import Source
from scraping.sources.base import UpstreamSource
from scraping.sources.registry import source_factory
from stashsense.http import OutboundClient, host_of
from stashsense.ratelimit import RateLimiter, rate_limiter_for

PHOTO_MAX_BYTES = 15 * 1024 * 1024


@dataclass
class SourceClients:
    """What a sync needs to talk to one source: `upstream` for everything but foreign photos."""

    source: Source
    upstream: UpstreamSource
    _guarded: UpstreamSource
    _https: tuple[OutboundClient, ...]

    @property
    def endpoint(self) -> str:
        """The endpoint the source's entries are keyed by."""
        return self.upstream.endpoint

    def fetch_photo(self, url: str) -> bytes:
        """One photo at the size we keep, through the SSRF guard unless on the source's host."""
        own_host = host_of(url).lower() == host_of(self.source.url).lower()
        client = self.upstream if own_host else self._guarded
        return client.fetch_photo(url, max_bytes=PHOTO_MAX_BYTES)

    def close(self) -> None:
        for http in self._https:
            http.close()


def source_rate_limiter(source: Source) -> RateLimiter:
    return rate_limiter_for(
        source.name, float(source.requests_per_minute or 1), settings.REDIS_URL or None
    )


def clients_for(source: Source, **http_options: Any) -> SourceClients:
    """Clients for `source`; `http_options` go to `OutboundClient` (tests shorten backoff)."""
    build = source_factory(source.kind)
    limiter = source_rate_limiter(source)
    trusted = OutboundClient(rate_limiter=limiter, **http_options)
    guarded = OutboundClient(rate_limiter=limiter, ssrf_guard=True, **http_options)
    return SourceClients(
        source=source,
        upstream=build(source.url, source.api_key, trusted),
        _guarded=build(source.url, source.api_key, guarded),
        _https=(trusted, guarded),
    )
