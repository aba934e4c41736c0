"""A fully read response: the body read under a size limit and a deadline, status to error."""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from urllib3.exceptions import DecodeError, ProtocolError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.response import BaseHTTPResponse

from stashsense.http.errors import (
    AuthError,
    NotFoundError,
    OutboundError,
    PermanentError,
    ResponseTooLargeError,
    TransientError,
    parse_retry_after,
)
from stashsense.http.targets import display_url, host_of

CHUNK_BYTES = 64 * 1024
TRANSIENT_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class HttpResponse:
    """A fully read response: status, headers (case-insensitive), body bytes, final URL."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; `PermanentError` when it is not JSON."""
        try:
            return jsonlib.loads(self.content)
        except ValueError as error:
            raise PermanentError(
                f"unparseable JSON from {display_url(self.url)}",
                url=self.url,
                status=self.status,
            ) from error


def _read_limited(raw: BaseHTTPResponse, limit: int, url: str, deadline: float) -> bytes:
    """Read the body, refusing it as soon as it passes `limit` (Content-Length is a hint only).

    `read1` returns whatever arrived, so a server dripping bytes just under the read timeout
    still hits the overall `deadline` (a monotonic time).
    """
    declared = raw.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raw.close()
        raise ResponseTooLargeError(
            f"{display_url(url)} announces {declared} bytes, limit is {limit}", url=url
        )
    chunks: list[bytes] = []
    received = 0
    try:
        while chunk := raw.read1(CHUNK_BYTES, decode_content=True):
            received += len(chunk)
            if received > limit:
                raise ResponseTooLargeError(
                    f"{display_url(url)} sent more than {limit} bytes", url=url
                )
            if time.monotonic() > deadline:
                raise TransientError(f"{display_url(url)} is sending too slowly", url=url)
            chunks.append(chunk)
    except OutboundError:
        raw.close()
        raise
    except DecodeError as error:
        raw.close()
        raise PermanentError(f"undecodable body from {display_url(url)}", url=url) from error
    except (ProtocolError, Urllib3TimeoutError, OSError) as error:
        raw.close()
        raise TransientError(
            f"body from {display_url(url)} cut short ({type(error).__name__})", url=url
        ) from error
    return b"".join(chunks)


def _raise_for_status(response: HttpResponse, *, carried_credentials: bool) -> HttpResponse:
    status, host = response.status, host_of(response.url)
    if status < 400:
        return response
    if status in (401, 403):
        message = (
            f"bad API key for {host} (HTTP {status})"
            if carried_credentials
            else f"{host} refused access without credentials (HTTP {status})"
        )
        raise AuthError(message, response=response)
    if status in (404, 410):
        raise NotFoundError(f"HTTP {status} for {display_url(response.url)}", response=response)
    if status in TRANSIENT_STATUSES or status >= 500:
        raise TransientError(
            f"HTTP {status} from {host}",
            response=response,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    raise PermanentError(f"HTTP {status} from {display_url(response.url)}", response=response)


def _graphql_messages_of(response: HttpResponse | None) -> list[str]:
    if response is None:
        return []
    try:
        return _graphql_messages(jsonlib.loads(response.content))
    except ValueError:
        return []


def _graphql_messages(body: Any) -> list[str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [
        str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in errors
    ]
