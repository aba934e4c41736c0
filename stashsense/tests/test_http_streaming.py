"""Streamed responses and resumable downloads of the chokepoint, against real local servers.

The resume itself (Range, If-Range, a changed file, a cut) is exercised end to end by
bundles/tests/test_bundle_download.py; here: the checks a stream shares with every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes import CannedResponse, FakeHttpServer
from stashsense.http import (
    AuthError,
    BlockedUrlError,
    NotFoundError,
    OutboundClient,
    ResponseTooLargeError,
)

BODY = bytes(range(256)) * 1024  # 256 KiB
SECRET = "stream-secret-key"


@pytest.fixture
def server() -> Iterator[FakeHttpServer]:
    with FakeHttpServer() as fake:
        fake.add_route("GET", "/file", CannedResponse(200, BODY, {"ETag": '"v1"'}))
        fake.add_route("GET", "/jump", CannedResponse(302, headers={"Location": "/file"}))
        fake.add_route("GET", "/endless", CannedResponse(200, BODY, chunked=True))
        yield fake


@pytest.fixture
def client() -> Iterator[OutboundClient]:
    with OutboundClient(timeout=5, retries=0) as outbound:
        yield outbound


def test_a_stream_follows_redirects_and_reads_the_body_as_sent(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    with client.stream(f"{server.url}/jump") as stream:
        body = b"".join(stream.chunks(64 * 1024))

    assert (stream.status, stream.url, body) == (200, f"{server.url}/file", BODY)
    assert stream.headers["etag"] == '"v1"'
    assert server.requests_to("/file")[0].headers["accept-encoding"] == "identity"


def test_a_streamed_error_status_raises_as_a_request_would_with_its_body(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    server.add_route("GET", "/gone", CannedResponse(404, b"no such bundle"))
    server.add_route("GET", "/private", CannedResponse(401))

    with pytest.raises(NotFoundError) as missing:
        client.stream(f"{server.url}/gone")
    with pytest.raises(AuthError):
        client.stream(f"{server.url}/private", headers={"ApiKey": SECRET})

    assert missing.value.response is not None
    assert missing.value.response.content == b"no such bundle"


def test_a_streamed_body_past_the_limit_is_refused_while_it_is_read(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    with (
        client.stream(f"{server.url}/endless", max_bytes=100_000) as stream,
        pytest.raises(ResponseTooLargeError),
    ):
        for _ in stream.chunks(16 * 1024):
            pass


def test_every_hop_of_a_stream_is_checked_by_the_ssrf_guard(server: FakeHttpServer) -> None:
    server.add_route(
        "GET", "/inside", CannedResponse(302, headers={"Location": "http://10.0.0.1/"})
    )
    guarded = OutboundClient(ssrf_guard=True, allowed_hosts={"127.0.0.1"}, retries=0)

    with pytest.raises(BlockedUrlError):
        guarded.stream(f"{server.url}/inside")


@pytest.mark.parametrize("path", ["/file", "/endless"])  # announced, or found while reading
def test_a_download_past_the_limit_is_refused_and_leaves_no_partial_file(
    server: FakeHttpServer, client: OutboundClient, tmp_path: Path, path: str
) -> None:
    with pytest.raises(ResponseTooLargeError):
        client.download(f"{server.url}{path}", tmp_path / "bundle.zip", max_bytes=100_000)

    assert list(tmp_path.iterdir()) == []


def test_a_download_follows_a_redirect_to_another_origin_and_reports_its_progress(
    server: FakeHttpServer, client: OutboundClient, tmp_path: Path
) -> None:
    with FakeHttpServer() as cdn:
        cdn.add_route("GET", "/bundle.zip", CannedResponse(200, BODY))
        server.add_route(
            "GET", "/cdn", CannedResponse(302, headers={"Location": f"{cdn.url}/bundle.zip"})
        )
        seen: list[tuple[int, int | None]] = []

        path = client.download(
            f"{server.url}/cdn",
            tmp_path / "bundle.zip",
            progress=lambda done, total: seen.append((done, total)),
        )

        assert path.read_bytes() == BODY and seen[-1] == (len(BODY), len(BODY))
        assert [done for done, _ in seen] == sorted({done for done, _ in seen})
        assert cdn.request_count("/bundle.zip") == 1
