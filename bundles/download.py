"""Downloading a bundle by URL, resumed with HTTP Range when an earlier attempt was cut.

The download itself is the outbound client's (`OutboundClient.download`: streamed to
`<name>.part`, resumed with `Range`/`If-Range`, the client's timeouts, User-Agent, redirect
checks, credentials dropped across origins, retry policy and size limit). What is the
bundle's: where the file goes, its name, and a client tuned for one large body (a longer read
timeout, a size limit in gigabytes). The URL comes from the operator, so the SSRF guard stays
off unless a caller turns it on. The bundle's own checksums are the last word on the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from stashsense.http import DownloadProgress, OutboundClient

# A gallery of a million faces makes a bundle of a few gigabytes; the ceiling only stops a
# wrong URL from filling the disk.
BUNDLE_MAX_BYTES = 64 * 1024**3
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def is_url(value: str) -> bool:
    return urlsplit(value).scheme.lower() in ("http", "https")


def download_name(url: str) -> str:
    """A safe local file name for what `url` points at."""
    name = _SAFE_NAME.sub("-", unquote(Path(urlsplit(url).path).name)).strip(".-")
    return name or "bundle.zip"


class BundleDownloadClient(OutboundClient):
    """The outbound client with the defaults of one large download."""

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        max_bytes: int = BUNDLE_MAX_BYTES,
        **options: Any,
    ) -> None:
        super().__init__(timeout=timeout, max_bytes=max_bytes, **options)


def bundle_download(
    *,
    url: str,
    directory: Path,
    progress: DownloadProgress | None = None,
    client: OutboundClient | None = None,
) -> Path:
    """Download a bundle into `directory` (resuming an earlier partial download); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    destination = directory / download_name(url)
    if client is not None:
        return client.download(url, destination, progress=progress)
    with BundleDownloadClient() as downloader:
        return downloader.download(url, destination, progress=progress)
