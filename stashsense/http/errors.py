"""The outbound client's errors (transient: retry; permanent: record), and what they carry."""

from __future__ import annotations

import email.utils
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stashsense.http.response import HttpResponse


class OutboundError(Exception):
    """Base of every error raised by the outbound client."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        response: HttpResponse | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url if url is not None or response is None else response.url
        self.status = status if status is not None or response is None else response.status
        self.response = response


class TransientError(OutboundError):
    """Timeout, connection failure, truncated body, 429 or 5xx: worth retrying later."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        response: HttpResponse | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, response=response)
        self.retry_after = retry_after


class PermanentError(OutboundError):
    """Other 4xx, unparseable body, response too large: record it, do not retry."""


class NotFoundError(PermanentError):
    """404 or 410: the resource is gone."""


class AuthError(PermanentError):
    """401/403 or an upstream "not authorized": the API key or token is missing or wrong."""


class BlockedUrlError(PermanentError):
    """The SSRF guard refused the URL (scheme, host not allowed, or a non-public address)."""


class ResponseTooLargeError(PermanentError):
    """The body grew past the size limit while it was being read."""


class GraphQLQueryError(PermanentError):
    """The GraphQL server answered with an `errors` list."""

    def __init__(self, messages: list[str], *, url: str | None = None) -> None:
        super().__init__("; ".join(messages) or "GraphQL error", url=url)
        self.messages = messages


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _reason(error: BaseException) -> str:
    """The innermost cause of a urllib3 error, e.g. the certificate mismatch behind SSLError."""
    seen: set[int] = set()
    while id(error) not in seen:
        seen.add(id(error))
        wrapped = [arg for arg in error.args if isinstance(arg, BaseException)]
        inner = error.__cause__ or (wrapped[-1] if wrapped else None)
        if inner is None:
            break
        error = inner
    return str(error)[:200]
