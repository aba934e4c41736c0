"""Downloading a bundle by URL into a partial file that later attempts resume with HTTP Range.

`OutboundClient.get` reads a whole body into memory under a size limit, which suits API
answers, not a multi-gigabyte bundle. `BundleDownloadClient` is the same client (timeouts,
User-Agent, redirects checked hop by hop, credentials dropped across origins, retry policy)
with one more method that streams a body to a file. The URL comes from the operator, so the
SSRF guard stays off unless a caller turns it on.

The partial file sits next to the destination as `<name>.part`, with the response's ETag or
Last-Modified beside it; a resumed request sends `Range` and `If-Range`, so a server whose
file changed answers with the whole new file instead of a mismatched tail. The bundle's own
checksums are the last word either way.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse

from stashsense.http import (
    CREDENTIAL_HEADERS,
    REDIRECT_STATUSES,
    TRANSIENT_STATUSES,
    NotFoundError,
    OutboundClient,
    PermanentError,
    TransientError,
    display_url,
    parse_retry_after,
)

logger = logging.getLogger(__name__)

DownloadProgress = Callable[[int, int | None], None]
CHUNK_BYTES = 1024 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes \*/(\d+)")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def is_url(value: str) -> bool:
    return urlsplit(value).scheme.lower() in ("http", "https")


def download_name(url: str) -> str:
    """A safe local file name for what `url` points at."""
    name = _SAFE_NAME.sub("-", unquote(Path(urlsplit(url).path).name)).strip(".-")
    return name or "bundle.zip"


class BundleDownloadClient(OutboundClient):
    """The outbound client, able to stream one GET into a file and resume it."""

    def __init__(self, *, timeout: float | tuple[float, float] = (10.0, 60.0), **options: Any):
        super().__init__(timeout=timeout, **options)

    def download(
        self, url: str, destination: Path, *, progress: DownloadProgress | None = None
    ) -> Path:
        """Fetch `url` into `destination`, resuming `<destination>.part`, retrying cuts."""
        part = destination.with_name(destination.name + ".part")
        for attempt in range(1 + self.retries):
            try:
                self._attempt(url, part, progress)
            except TransientError as error:
                if attempt >= self.retries:
                    raise
                delay = self._backoff_delay(attempt, error.retry_after)
                logger.warning("Download of %s cut (%s); resuming in %.1f s", url, error, delay)
                self._sleep(delay)
                continue
            os.replace(part, destination)
            _validator_path(part).unlink(missing_ok=True)
            return destination
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, url: str, part: Path, progress: DownloadProgress | None) -> None:
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Accept-Encoding": "identity"}
        validator = _validator_path(part)
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if validator.exists():
                headers["If-Range"] = validator.read_text().strip()
        raw = self._open_following(url, headers)
        try:
            total = self._start(raw, part, offset, url)
            if total is None:
                return  # the partial file already held everything
            offset = part.stat().st_size if raw.status == 206 else 0
            if raw.status == 200:
                part.write_bytes(b"")
            stamp = raw.headers.get("ETag") or raw.headers.get("Last-Modified")
            if stamp:
                validator.write_text(stamp)
            self._stream(raw, part, offset, total, progress)
        finally:
            raw.release_conn()

    def _start(self, raw: BaseHTTPResponse, part: Path, offset: int, url: str) -> int | None:
        """The full size (-1 if unknown), or None when nothing is left to fetch."""
        status = raw.status
        if status == 416 and offset:
            match = _UNSATISFIED_RANGE.fullmatch(raw.headers.get("Content-Range", ""))
            if match and int(match.group(1)) == offset:
                return None
            part.unlink(missing_ok=True)
            raise TransientError("the partial download does not fit the file; starting over")
        _raise_for_status(raw, display_url(url))
        if status == 206:
            match = _CONTENT_RANGE.fullmatch(raw.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                part.unlink(missing_ok=True)
                raise TransientError("the server resumed at the wrong place; starting over")
            return int(match.group(3)) if match.group(3) != "*" else -1
        length = raw.headers.get("Content-Length", "")
        return int(length) if length.isdigit() else -1

    def _stream(
        self,
        raw: BaseHTTPResponse,
        part: Path,
        offset: int,
        total: int,
        progress: DownloadProgress | None,
    ) -> None:
        done = offset
        try:
            with part.open("ab") as handle:
                while chunk := raw.read(CHUNK_BYTES, decode_content=False):
                    handle.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total if total >= 0 else None)
        except (Urllib3Error, OSError) as error:
            raise TransientError(
                f"download cut at {done} bytes ({type(error).__name__})"
            ) from error
        if total >= 0 and done != total:
            raise TransientError(f"download cut at {done} of {total} bytes")

    def _open_following(self, url: str, headers: dict[str, str]) -> BaseHTTPResponse:
        """GET `url`, following redirects through the client's URL checks, body unread."""
        _, sent = self._prepare(headers, None, None)
        target = self._check_url(url)
        for _hop in range(self.max_redirects + 1):
            raw = self._open("GET", target, sent, None)
            location = raw.headers.get("Location")
            if raw.status not in REDIRECT_STATUSES or not location:
                return raw
            raw.drain_conn()
            raw.release_conn()
            following = self._check_url(urljoin(target.url, location))
            if following.origin != target.origin:
                sent = urllib3.HTTPHeaderDict(
                    {k: v for k, v in sent.items() if k.lower() not in CREDENTIAL_HEADERS}
                )
            target = following
        raise PermanentError(f"more than {self.max_redirects} redirects from {display_url(url)}")


def _raise_for_status(raw: BaseHTTPResponse, url: str) -> None:
    status = raw.status
    if status < 400:
        return
    message = f"HTTP {status} for {url}"
    if status in (404, 410):
        raise NotFoundError(message, status=status)
    if status in TRANSIENT_STATUSES or status >= 500:
        raise TransientError(
            message, status=status, retry_after=parse_retry_after(raw.headers.get("Retry-After"))
        )
    raise PermanentError(message, status=status)


def _validator_path(part: Path) -> Path:
    return part.with_name(part.name + ".validator")


def bundle_download(
    *,
    url: str,
    directory: Path,
    progress: DownloadProgress | None = None,
    client: BundleDownloadClient | None = None,
) -> Path:
    """Download a bundle into `directory` (resuming an earlier partial download); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    destination = directory / download_name(url)
    if client is not None:
        return client.download(url, destination, progress=progress)
    downloader = BundleDownloadClient()
    try:
        return downloader.download(url, destination, progress=progress)
    finally:
        downloader.close()
