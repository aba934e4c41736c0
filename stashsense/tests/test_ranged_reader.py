"""RangedReader: a remote file read in place with HTTP Range, through OutboundClient."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.server import CannedResponse, FakeHttpServer
from fakes.stash_server import ranged_file_response
from stashsense.http import (
    BlockedUrlError,
    OutboundClient,
    PermanentError,
    RangedReader,
    ResponseTooLargeError,
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FakeHttpServer, bytes]]:
    data = os.urandom(300_000)
    path = tmp_path / "video.bin"
    path.write_bytes(data)
    server = FakeHttpServer()
    server.add_route(
        "GET", "/file", lambda request: ranged_file_response(path, request.headers.get("range"))
    )
    with server:
        yield server, data


def _reader(server: FakeHttpServer, **options: int) -> RangedReader:
    client = OutboundClient(allowed_hosts={"127.0.0.1"}, retries=0)
    return RangedReader(client, f"{server.url}/file", headers={"ApiKey": "k"}, **options)


def test_reads_anywhere_in_the_file_with_range_requests_only(
    served: tuple[FakeHttpServer, bytes],
) -> None:
    server, data = served
    reader = _reader(server, block_bytes=16_384, cache_blocks=2)
    assert reader.size == len(data)
    for offset, length in [(0, 100), (250_000, 40_000), (10, 5), (299_990, 100)]:
        reader.seek(offset)
        assert reader.read(length) == data[offset : offset + length]
    reader.seek(-7, 2)
    assert reader.read() == data[-7:]
    sent = server.requests_to("/file")
    assert all(r.headers["range"].startswith("bytes=") and r.headers["apikey"] == "k" for r in sent)
    # Memory stays at the cached blocks; nothing like the whole file was fetched.
    assert len(reader._blocks) <= 2 and reader.fetched_bytes < len(data) / 2


def test_the_byte_budget_stops_a_reader_that_fetches_too_much(
    served: tuple[FakeHttpServer, bytes],
) -> None:
    server, _ = served
    reader = _reader(server, block_bytes=16_384, max_bytes=40_000)
    with pytest.raises(ResponseTooLargeError):
        for offset in range(0, 300_000, 16_384):
            reader.seek(offset)
            reader.read(10)


def test_a_server_that_ignores_range_is_refused_before_the_body_is_read(tmp_path: Path) -> None:
    with FakeHttpServer() as server:
        server.add_route("GET", "/file", CannedResponse(200, b"x" * 2_000_000))
        with pytest.raises(PermanentError, match="does not serve byte ranges"):
            _reader(server, block_bytes=16_384)


def test_only_the_allowed_host_is_asked() -> None:
    client = OutboundClient(allowed_hosts={"stash.local"}, retries=0)
    with pytest.raises(BlockedUrlError):
        RangedReader(client, "http://127.0.0.1:9/file")
