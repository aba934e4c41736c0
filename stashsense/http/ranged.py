"""A remote file read in place with HTTP Range requests: a seekable, read-only file object.

FFmpeg (PyAV) reads a video through it as if it were on disk: each read is served from a few
cached blocks, and a block not held is one `Range: bytes=a-b` GET through the client, so the
client's SSRF rules, allowed hosts, timeouts and credential handling apply to every request.
The whole file is never fetched nor held: memory stays at `cache_blocks` x `block_bytes`, and
`max_bytes` bounds what one reader may fetch in all (seeking back and forth refetches blocks).
"""

from __future__ import annotations

import io
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stashsense.http.errors import PermanentError, ResponseTooLargeError, TransientError
from stashsense.http.targets import display_url

if TYPE_CHECKING:
    from stashsense.http.client import OutboundClient

DEFAULT_BLOCK_BYTES = 512 * 1024
DEFAULT_CACHE_BLOCKS = 8
# Small reads, so a server that drips bytes still meets the deadline check between them.
CHUNK_BYTES = 16 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class RangedReadTimeout(TransientError):
    """The reader's deadline passed: the server is too slow for this request."""


class RangedReader(io.RawIOBase):
    """`url` as a seekable file; the first block is fetched on creation (errors show early)."""

    def __init__(
        self,
        client: OutboundClient,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        cache_blocks: int = DEFAULT_CACHE_BLOCKS,
        max_bytes: int = 1024 * 1024 * 1024,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.url = url
        self.headers = dict(headers or {})
        self.block_bytes = block_bytes
        self.cache_blocks = cache_blocks
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.fetched_bytes = 0
        self.requests = 0
        self.size = 0
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._blocks[0] = self._fetch(0)

    # -- io.RawIOBase ------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._position < self.size:
            number, offset = divmod(self._position, self.block_bytes)
            piece = self._block(number)[offset : offset + len(view) - filled]
            if not piece:
                break  # the server sent a short block: end of what can be read
            view[filled : filled + len(piece)] = piece
            filled += len(piece)
            self._position += len(piece)
        return filled

    # -- blocks ------------------------------------------------------------------------------

    def _block(self, number: int) -> bytes:
        if number in self._blocks:
            self._blocks.move_to_end(number)
            return self._blocks[number]
        block = self._fetch(number)
        self._blocks[number] = block
        while len(self._blocks) > self.cache_blocks:
            self._blocks.popitem(last=False)
        return block

    def _fetch(self, number: int) -> bytes:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise RangedReadTimeout(
                f"{display_url(self.url)} is too slow: time is up", url=self.url
            )
        first = number * self.block_bytes
        last = first + self.block_bytes - 1
        wanted = {**self.headers, "Range": f"bytes={first}-{last}"}
        self.requests += 1
        with self.client.stream(self.url, headers=wanted, max_bytes=self.block_bytes) as answer:
            if answer.status == 200 and first == 0:
                total = int(answer.headers.get("Content-Length") or -1)
                if not 0 <= total <= self.block_bytes:
                    raise PermanentError(
                        f"{display_url(self.url)} does not serve byte ranges", url=self.url
                    )
                self.size = total
            elif answer.status == 206:
                self._check_range(answer.headers.get("Content-Range", ""), first)
            else:
                raise PermanentError(
                    f"{display_url(self.url)} answered {answer.status} to a range request",
                    url=self.url,
                )
            body = b"".join(self._counted(answer.chunks(CHUNK_BYTES)))
        return body

    def _counted(self, chunks: Any) -> Any:
        for chunk in chunks:
            self.fetched_bytes += len(chunk)
            if self.fetched_bytes > self.max_bytes:
                raise ResponseTooLargeError(
                    f"reading {display_url(self.url)} took more than {self.max_bytes} bytes",
                    url=self.url,
                )
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise RangedReadTimeout(
                    f"{display_url(self.url)} is too slow: time is up", url=self.url
                )
            yield chunk

    def _check_range(self, header: str, first: int) -> None:
        match = _CONTENT_RANGE.match(header.strip())
        if match is None or int(match[1]) != first or match[3] == "*":
            raise PermanentError(
                f"{display_url(self.url)} sent a bad Content-Range {header!r}", url=self.url
            )
        self.size = int(match[3])
