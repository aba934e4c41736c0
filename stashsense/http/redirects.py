"""Redirect hops: which statuses redirect, how the request changes, which headers stay behind."""

from __future__ import annotations

from collections.abc import Mapping

import urllib3

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that carry credentials: never logged, never forwarded to another origin on redirect.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "apikey", "x-api-key", "cookie", "proxy-authorization"}
)


def _redirected(
    status: int, method: str, body: bytes | None, headers: urllib3.HTTPHeaderDict
) -> tuple[str, bytes | None, urllib3.HTTPHeaderDict]:
    """307/308 repeat the request as is; 301/302/303 turn it into a body-less GET."""
    if status in (307, 308) or method in ("GET", "HEAD"):
        return method, body, headers
    stripped = urllib3.HTTPHeaderDict(headers)
    for name in ("Content-Type", "Content-Length"):
        stripped.discard(name)
    return "GET", None, stripped


def _has_credentials(headers: Mapping[str, str]) -> bool:
    return any(name.lower() in CREDENTIAL_HEADERS for name in headers)


def _without_credentials(headers: urllib3.HTTPHeaderDict) -> urllib3.HTTPHeaderDict:
    return urllib3.HTTPHeaderDict(
        {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
    )
