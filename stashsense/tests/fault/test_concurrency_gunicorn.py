"""Fifty identifications at once against gunicorn: all answered, and answered right.

The server is `make run`'s shape: one worker with 8 threads and 2 inference slots, so most
requests queue, in gunicorn and then on the slots. A 503 (busy) is a documented answer that
a client retries after Retry-After; anything else but a 200 is a failure. The answers must be
those the same photos get one at a time, so concurrency mixes no results between requests.
The throughput is printed, not asserted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from stashsense.tests.fault.conftest import INFERENCE_CONCURRENCY, PROBES, Served
from stashsense.tests.fault.stack import FACES, STACK_API_KEY

REQUESTS = 50
MAX_RETRIES = 20


@dataclass(frozen=True)
class Answer:
    photo: str
    status: int
    body: Any
    retries: int


def identify(url: str, photo: str) -> Answer:
    """POST one photo; on 503 wait Retry-After (capped) and try again, like the plugin does."""
    data = (FACES / photo).read_bytes()
    for retries in range(MAX_RETRIES + 1):
        response = requests.post(
            f"{url}/api/v1/identify",
            files={"image": (photo.replace("/", "_"), data, "image/jpeg")},
            headers={"X-Api-Key": STACK_API_KEY},
            timeout=120,
        )
        if response.status_code != 503 or retries == MAX_RETRIES:
            break
        time.sleep(min(float(response.headers.get("Retry-After", "1")), 5.0))
    body = response.json() if response.headers.get("Content-Type") == "application/json" else None
    return Answer(photo, response.status_code, body or response.text[:500], retries)


def best_names(body: dict[str, Any]) -> list[str | None]:
    """Per face (in the server's order) the name of its best match, or None when unknown."""
    return [
        face["matches"][0]["performer"]["name"] if face["matches"] else None
        for face in body["faces"]
    ]


def all_at_once(count: int, call: Callable[[int], Answer]) -> tuple[list[Answer], float]:
    """`count` calls, each on its own thread, released together; (answers, seconds)."""
    start = threading.Barrier(count + 1)

    def released(number: int) -> Answer:
        start.wait()
        return call(number)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(released, number) for number in range(count)]
        start.wait()
        began = time.perf_counter()
        answers = [future.result() for future in futures]
    return answers, time.perf_counter() - began


def test_fifty_concurrent_identifications_all_answer_200_with_the_one_at_a_time_results(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    url, photos = served.server.url, sorted(PROBES)
    alone = {photo: identify(url, photo) for photo in photos}  # also warms the models up
    assert all(a.status == 200 for a in alone.values()), alone
    for photo, name in PROBES.items():
        assert best_names(alone[photo].body)[0] == name, alone[photo].body

    answers, seconds = all_at_once(REQUESTS, lambda n: identify(url, photos[n % len(photos)]))

    retries = sum(a.retries for a in answers)
    with capsys.disabled():  # reported, not asserted: shown even when output is captured
        print(
            f"\n{REQUESTS} concurrent identifications (gunicorn 1 worker x 8 threads, "
            f"{INFERENCE_CONCURRENCY} inference slots): {seconds:.2f} s, "
            f"{REQUESTS / seconds:.1f} requests/s, {retries} retries after 503"
        )
    failed = [a for a in answers if a.status != 200]
    assert not failed, failed[:3]
    for answer in answers:
        assert best_names(answer.body) == best_names(alone[answer.photo].body), answer
