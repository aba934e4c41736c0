"""Routes read from the URL configuration, made concrete with sample parameters."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

OPEN_API_ROUTES = {"api/v1/health", "api/schema/", "api/docs/"}
SAMPLE_BY_CONVERTER = {"uuid": str(uuid.uuid4()), "int": "1", "path": "x"}


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def routes_under(prefix: str) -> list[str]:
    """Every route starting with `prefix`, e.g. `api/v1/performers/<uuid:pk>/merge`."""
    return sorted({r for r in _routes(get_resolver().url_patterns) if r.startswith(prefix)})


def api_routes() -> list[str]:
    found = routes_under("api/")
    assert "api/v1/identify" in found and "api/v1/performers/<uuid:pk>/merge" in found
    return found


def guarded_api_routes() -> list[str]:
    """The API routes that need a key: all but health, the schema and the docs."""
    return [route for route in api_routes() if route not in OPEN_API_ROUTES]


def concrete(route: str) -> str:
    """/<route> with sample values for its parameters (e.g. `<uuid:pk>` → a random UUID)."""
    return "/" + re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER.get(m.group(1) or "", "42"), route
    )
