"""Token buckets: local (deterministic clock) and shared through a real Redis."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from stashsense.ratelimit import LocalTokenBucket, RedisTokenBucket, rate_limiter_for

REDIS_URL = os.environ.get("STASHSENSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"Redis unreachable at {REDIS_URL}: {error}"
        print(reason)
        pytest.skip(reason)
    yield client
    client.close()


@pytest.fixture
def bucket_key(redis_client: redis.Redis) -> Iterator[str]:
    key = f"stashsense-test:ratelimit:{uuid.uuid4()}"
    yield key
    for name in redis_client.scan_iter(f"{key}*"):
        redis_client.delete(name)


def test_a_local_bucket_allows_a_burst_then_spaces_requests_at_the_rate() -> None:
    clock = FakeClock()
    bucket = LocalTokenBucket(60, burst=2, clock=clock, sleep=clock.sleep)

    for _ in range(4):
        bucket.acquire("stashdb.org")

    assert clock.waits == pytest.approx([1.0, 2.0])  # each waiter holds its own later slot


def test_a_local_bucket_refills_while_idle_but_not_beyond_the_burst() -> None:
    clock = FakeClock()
    bucket = LocalTokenBucket(60, burst=2, clock=clock, sleep=clock.sleep)
    bucket.acquire("host")
    bucket.acquire("host")

    clock.now += 100
    for _ in range(3):
        bucket.acquire("host")

    assert clock.waits == pytest.approx([1.0])


def test_local_buckets_are_separate_per_key() -> None:
    clock = FakeClock()
    bucket = LocalTokenBucket(60, burst=1, clock=clock, sleep=clock.sleep)

    bucket.acquire("stashdb.org")
    bucket.acquire("fansdb.cc")

    assert clock.waits == []


def test_the_default_burst_is_one_second_of_requests() -> None:
    assert LocalTokenBucket(240).burst == 4
    assert LocalTokenBucket(30).burst == 1


@pytest.mark.redis
def test_a_redis_bucket_allows_a_burst_then_makes_callers_wait(
    redis_client: redis.Redis, bucket_key: str
) -> None:
    waits: list[float] = []
    bucket = RedisTokenBucket(redis_client, bucket_key, 60, burst=2, sleep=waits.append)

    for _ in range(4):
        bucket.acquire("stashdb.org")

    assert len(waits) == 2
    assert 0.8 < waits[0] <= 1.0
    assert 1.8 < waits[1] <= 2.0
    assert redis_client.ttl(f"{bucket_key}:stashdb.org") > 0


@pytest.mark.redis
def test_rate_limiter_for_shares_a_redis_bucket_per_source(
    redis_client: redis.Redis, bucket_key: str
) -> None:
    limiter = rate_limiter_for("stashdb", 120, REDIS_URL, key_prefix=bucket_key)

    assert isinstance(limiter, RedisTokenBucket)
    limiter.acquire("stashdb.org")
    assert redis_client.exists(f"{bucket_key}:stashdb:stashdb.org")


def test_rate_limiter_for_without_redis_is_one_local_bucket_per_source() -> None:
    limiter = rate_limiter_for("stashdb-local-test", 240, None)

    assert isinstance(limiter, LocalTokenBucket)
    assert rate_limiter_for("stashdb-local-test", 240, None) is limiter
    assert rate_limiter_for("fansdb-local-test", 240, None) is not limiter


def _take_tokens(key: str, rpm: float, burst: int, count: int, start: Any, out: Any) -> None:
    """Runs in a child process: wait for the common start, then take `count` tokens."""
    bucket = RedisTokenBucket(redis.Redis.from_url(REDIS_URL), key, rpm, burst)
    start.wait(timeout=30)
    stamps = []
    for _ in range(count):
        bucket.acquire("shared.example")
        stamps.append(time.time())
    out.put(stamps)


@pytest.mark.redis
def test_two_processes_sharing_a_redis_bucket_together_stay_within_the_rate(
    redis_client: redis.Redis, bucket_key: str
) -> None:
    rpm, burst, per_process = 1200.0, 3, 12  # 20 per second
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start = context.Barrier(2)  # both children are up before the race starts
    children = [
        context.Process(target=_take_tokens, args=(bucket_key, rpm, burst, per_process, start, out))
        for _ in range(2)
    ]
    for child in children:
        child.start()
    results = [out.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=10)

    stamps = sorted(stamp for result in results for stamp in result)
    assert [len(result) for result in results] == [per_process, per_process]
    rate = rpm / 60
    slack = 0.05  # scheduling noise between Redis granting a slot and the child stamping it
    for first in range(len(stamps)):
        for last in range(first + burst, len(stamps)):
            allowed_within = (last - first + 1 - burst) / rate
            assert stamps[last] - stamps[first] >= allowed_within - slack
