"""Slow upstreams cannot hold every thread: gunicorn (8 threads) against a hanging image host.

The `image_url` host is a real HTTP server on loopback that hangs or drips a byte a second.
Fetches are bounded in number (4 here: one more answers 503 at once) and in total time (a 4 s
deadline across connect, headers and body), so health answers while eight fetches hang.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from fakes.server import CannedResponse, FakeHttpServer
from stashsense.http import OutboundClient, OutboundError
from stashsense.tests.fault.stack import (
    STACK_API_KEY,
    Server,
    gunicorn,
    stack_create,
    wait_for,
)

FETCH_CONCURRENCY = 4
DEADLINE_SECONDS = 4


@pytest.fixture(scope="module")
def image_host() -> Iterator[FakeHttpServer]:
    with FakeHttpServer() as server:
        server.add_route("GET", "/hang.jpg", CannedResponse(200, b"\xff\xd8" + b"x" * 200))
        server.add_route("GET", "/drip.jpg", CannedResponse(200, b"\xff\xd8" + b"x" * 200))
        yield server


@pytest.fixture(scope="module")
def slow_served(
    tmp_path_factory: pytest.TempPathFactory, image_host: FakeHttpServer
) -> Iterator[Server]:
    stack = stack_create(
        tmp_path_factory.mktemp("slow-upstreams"),
        STASHSENSE_IMAGE_URL_HOSTS=f"127.0.0.1:{image_host.port}",
        STASHSENSE_FETCH_CONCURRENCY=str(FETCH_CONCURRENCY),
        STASHSENSE_FETCH_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
    )
    with gunicorn(stack, threads=8) as server:
        yield server


def _answer(
    client: OutboundClient, url: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """(status, JSON body) of a GET, or of a POST when `body` is given; errors are answers too."""
    headers = {"Authorization": f"Api-Key {STACK_API_KEY}"}
    try:
        if body is None:
            response = client.get(url, headers=headers)
        else:
            response = client.post(url, json=body, headers=headers)
    except OutboundError as error:
        if error.response is None:
            raise
        return error.status or 0, json.loads(error.response.content or b"null")
    return response.status, response.json()


def _not_busy(answer: tuple[int, Any]) -> tuple[int, Any] | None:
    return None if answer[0] == 503 else answer


def test_health_answers_while_eight_image_url_fetches_hang(
    slow_served: Server, image_host: FakeHttpServer
) -> None:
    image_host.slow_next(8, seconds=60, path="/hang.jpg")
    body = {"image_url": f"{image_host.url}/hang.jpg"}
    with (
        OutboundClient(timeout=(5, 120), retries=0) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        answers = [
            pool.submit(_answer, client, f"{slow_served.url}/api/v1/identify", body)
            for _ in range(8)
        ]
        wait_for(
            lambda: image_host.request_count("/hang.jpg") >= FETCH_CONCURRENCY,
            timeout=60,
            what="the fetches to reach the hanging host",
        )
        # While they hang: a health check within its own short timeout.
        with OutboundClient(timeout=(5, 10), retries=0) as probe:
            health_status, health = _answer(probe, f"{slow_served.url}/api/v1/health")
        results = [answer.result() for answer in answers]

    assert health_status == 200, health
    statuses = sorted(status for status, _ in results)
    assert statuses == [422] * FETCH_CONCURRENCY + [503] * (8 - FETCH_CONCURRENCY), results
    codes = {body["error"]["code"] for _, body in results}
    assert codes == {"fetch_failed", "busy"}
    assert image_host.request_count("/hang.jpg") == FETCH_CONCURRENCY


def test_a_host_that_drips_a_byte_a_second_fails_at_the_deadline_not_per_read(
    slow_served: Server, image_host: FakeHttpServer
) -> None:
    image_host.drip_next(1, seconds_per_byte=1.0, path="/drip.jpg")
    # 202 bytes at one a second would take minutes; the whole fetch gets DEADLINE_SECONDS.
    with OutboundClient(timeout=(5, 60), retries=0) as client:
        # The previous test's hung fetches hold their slots until their sockets time out.
        status, body = wait_for(
            lambda: _not_busy(
                _answer(
                    client,
                    f"{slow_served.url}/api/v1/identify",
                    {"image_url": f"{image_host.url}/drip.jpg"},
                )
            ),
            timeout=120,
            what="a free fetch slot",
            interval=1,
        )

    assert image_host.request_count("/drip.jpg") == 1
    assert status == 422, body
    assert body["error"]["code"] == "fetch_failed"
    assert "127.0.0.1" not in body["error"]["message"]  # one generic message, no port details


def test_image_url_on_another_port_of_an_allowed_host_is_refused(
    slow_served: Server, image_host: FakeHttpServer, tmp_path: Path
) -> None:
    with OutboundClient(timeout=(5, 30), retries=0) as client:
        status, body = _answer(
            client,
            f"{slow_served.url}/api/v1/identify",
            {"image_url": f"http://127.0.0.1:{image_host.port + 1}/x.jpg"},
        )

    assert status == 400, body
    assert body["error"]["code"] == "url_not_allowed"
