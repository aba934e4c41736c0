"""A response whose body is still on the wire, read chunk by chunk: for large downloads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse

from stashsense.http.errors import ResponseTooLargeError, TransientError
from stashsense.http.targets import display_url

STREAM_CHUNK_BYTES = 1024 * 1024
ERROR_BODY_BYTES = 64 * 1024  # of an error answer, kept for its message


class StreamedResponse:
    """Status, headers and final URL of a GET whose body `chunks()` reads as it arrives.

    The size limit holds for the body as for any response; the read timeout holds per chunk,
    but not the client's total timeout: a multi-gigabyte body legitimately outlasts any fixed
    deadline, and a stalled server still hits the read timeout. Closing before the end drops
    the connection rather than return it to the pool with unread bytes in it.
    """

    def __init__(self, raw: BaseHTTPResponse, *, url: str, limit: int) -> None:
        self._raw = raw
        self.status = raw.status
        self.headers: Mapping[str, str] = urllib3.HTTPHeaderDict(raw.headers)
        self.url = url
        self.limit = limit
        self._complete = False

    def chunks(self, size: int = STREAM_CHUNK_BYTES) -> Iterator[bytes]:
        """The body as sent (not decoded); a cut connection raises `TransientError`."""
        declared = self.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise ResponseTooLargeError(
                f"{display_url(self.url)} announces {declared} bytes, limit is {self.limit}",
                url=self.url,
            )
        received = 0
        try:
            while chunk := self._raw.read(size, decode_content=False):
                received += len(chunk)
                if received > self.limit:
                    raise ResponseTooLargeError(
                        f"{display_url(self.url)} sent more than {self.limit} bytes", url=self.url
                    )
                yield chunk
        except (Urllib3Error, OSError) as error:
            raise TransientError(
                f"body from {display_url(self.url)} cut at {received} bytes "
                f"({type(error).__name__})",
                url=self.url,
            ) from error
        self._complete = True

    def close(self) -> None:
        if self._complete:
            self._raw.release_conn()
        else:
            _drop(self._raw)

    def __enter__(self) -> StreamedResponse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _error_body(raw: BaseHTTPResponse) -> bytes:
    """The start of an error answer's body (what it says went wrong); the connection dropped."""
    try:
        return raw.read(ERROR_BODY_BYTES, decode_content=True)
    except (Urllib3Error, OSError):
        return b""
    finally:
        _drop(raw)


def _drop(raw: BaseHTTPResponse) -> None:
    """Close the connection of a response whose body is not wanted (never read it all)."""
    raw.close()
    raw.release_conn()
