"""One attempt of `OutboundClient.download`: a URL into a file, resuming with HTTP Range.

The partial file sits next to the destination as `<name>.part`, with the response's ETag or
Last-Modified beside it (`<name>.part.validator`); a resumed request sends `Range` and
`If-Range`, so a server whose file changed answers with the whole new file instead of a
mismatched tail. A 206 that starts anywhere but where the partial file ends, or a 416 that
does not say the file is already whole, starts the download over. Integrity is the caller's:
a checksum of the finished file is the last word either way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from stashsense.http.errors import PermanentError, ResponseTooLargeError, TransientError
from stashsense.http.streaming import StreamedResponse
from stashsense.http.targets import display_url

if TYPE_CHECKING:
    from stashsense.http.client import OutboundClient

DownloadProgress = Callable[[int, int | None], None]  # (bytes so far, total or None)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes \*/(\d+)")


def partial_path(destination: Path) -> Path:
    return destination.with_name(destination.name + ".part")


def download_attempt(
    client: OutboundClient,
    url: str,
    destination: Path,
    *,
    limit: int,
    progress: DownloadProgress | None,
) -> Path:
    """Fetch what `<destination>.part` lacks and move it into place; cuts raise TransientError."""
    part = partial_path(destination)
    offset = part.stat().st_size if part.exists() else 0
    try:
        stream = client.stream(url, headers=_resume_headers(part, offset), max_bytes=limit)
    except PermanentError as error:
        if error.status != 416 or not offset:
            raise
        if not _already_whole(error, offset):
            _discard(part)
            raise TransientError(
                "the partial download does not fit the file; starting over"
            ) from error
        return _finish(part, destination)
    try:
        with stream:
            _append(stream, part, _expected_size(stream, part, offset, limit), limit, progress)
    except ResponseTooLargeError:
        _discard(part)  # never resumed: the same file would be refused again
        raise
    return _finish(part, destination)


def _resume_headers(part: Path, offset: int) -> dict[str, str]:
    if not offset:
        return {}
    headers = {"Range": f"bytes={offset}-"}
    validator = _validator_path(part)
    if validator.exists():
        headers["If-Range"] = validator.read_text().strip()
    return headers


def _already_whole(error: PermanentError, offset: int) -> bool:
    """A 416 whose Content-Range says the file is exactly as long as what we hold."""
    content_range = error.response.headers.get("Content-Range", "") if error.response else ""
    match = _UNSATISFIED_RANGE.fullmatch(content_range)
    return match is not None and int(match.group(1)) == offset


def _expected_size(stream: StreamedResponse, part: Path, offset: int, limit: int) -> int:
    """The whole file's size (-1 if unknown), after making `part` the start of this answer."""
    if stream.status == 206:
        match = _CONTENT_RANGE.fullmatch(stream.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != offset:
            _discard(part)
            raise TransientError("the server resumed at the wrong place; starting over")
        total = int(match.group(3)) if match.group(3) != "*" else -1
    else:  # the whole file: whatever was there is stale
        part.write_bytes(b"")
        length = stream.headers.get("Content-Length", "")
        total = int(length) if length.isdigit() else -1
    if total > limit:
        raise ResponseTooLargeError(
            f"{display_url(stream.url)} is {total} bytes, limit is {limit}", url=stream.url
        )
    stamp = stream.headers.get("ETag") or stream.headers.get("Last-Modified")
    if stamp:
        _validator_path(part).write_text(stamp)
    return total


def _append(
    stream: StreamedResponse,
    part: Path,
    total: int,
    limit: int,
    progress: DownloadProgress | None,
) -> None:
    done = part.stat().st_size
    with part.open("ab") as handle:
        for chunk in stream.chunks():
            handle.write(chunk)
            done += len(chunk)
            if done > limit:
                raise ResponseTooLargeError(
                    f"{display_url(stream.url)} sent more than {limit} bytes", url=stream.url
                )
            if progress is not None:
                progress(done, total if total >= 0 else None)
    if total >= 0 and done != total:
        raise TransientError(f"download cut at {done} of {total} bytes", url=stream.url)


def _finish(part: Path, destination: Path) -> Path:
    os.replace(part, destination)
    _validator_path(part).unlink(missing_ok=True)
    return destination


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
    _validator_path(part).unlink(missing_ok=True)


def _validator_path(part: Path) -> Path:
    return part.with_name(part.name + ".validator")
