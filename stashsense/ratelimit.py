"""Token buckets that space outbound requests per source.

A limit that must hold across Celery workers on several machines lives in Redis
(`RedisTokenBucket`, one Lua script so read-modify-write is atomic, Redis' own clock so workers'
clocks do not matter). `LocalTokenBucket` is the same algorithm in-process for embedded mode
without Redis. Both reserve a slot and sleep until it comes (a waiting caller already holds its
turn), so N callers together never exceed `burst` + rate * elapsed time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis import Redis

DEFAULT_KEY_PREFIX = "stashsense:ratelimit"

# KEYS[1] = bucket hash; ARGV[1] = tokens per second, ARGV[2] = burst.
# Returns the microseconds the caller must wait before its reserved token is valid.
_RESERVE_SLOT_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts',
           string.format('%.6f', now))
local refill_ms = math.ceil((burst - tokens) / rate * 1000) + 1000
redis.call('PEXPIRE', KEYS[1], refill_ms)
if tokens >= 0 then
  return 0
end
return math.ceil(-tokens / rate * 1000000)
"""


class RateLimiter(Protocol):
    """Blocks in `acquire` until one request to `key` (a host, within one source) may go."""

    def acquire(self, key: str) -> None: ...


def default_burst(rate_per_minute: float) -> int:
    """One second's worth of requests, at least one: smooth, yet no stall on small bursts."""
    return max(1, int(rate_per_minute // 60))


class RedisTokenBucket:
    """A token bucket in Redis shared by every process that uses the same `key` prefix.

    The Redis key of a bucket is `<key>:<acquire key>`, e.g.
    `stashsense:ratelimit:stashdb:stashdb.org`. Redis errors propagate (the caller's task
    retries); the limiter never silently lets requests through.
    """

    def __init__(
        self,
        redis_client: Redis,
        key: str,
        rate_per_minute: float,
        burst: int | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.key = key
        self.rate_per_second = rate_per_minute / 60.0
        self.burst = default_burst(rate_per_minute) if burst is None else max(1, burst)
        self._script = redis_client.register_script(_RESERVE_SLOT_LUA)
        self._sleep = sleep

    def acquire(self, key: str) -> None:
        wait_us = int(
            self._script(keys=[f"{self.key}:{key}"], args=[self.rate_per_second, self.burst])
        )
        if wait_us > 0:
            self._sleep(wait_us / 1_000_000)


class LocalTokenBucket:
    """The same bucket in one process (thread-safe); one bucket per `acquire` key."""

    def __init__(
        self,
        rate_per_minute: float,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.rate_per_second = rate_per_minute / 60.0
        self.burst = default_burst(rate_per_minute) if burst is None else max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            tokens, stamp = self._buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + max(0.0, now - stamp) * self.rate_per_second) - 1
            self._buckets[key] = (tokens, now)
        if tokens < 0:
            self._sleep(-tokens / self.rate_per_second)


_local_buckets: dict[tuple[str, float, int | None], LocalTokenBucket] = {}
_local_buckets_lock = threading.Lock()


def rate_limiter_for(
    source_key: str,
    rpm: float,
    redis_url: str | None,
    *,
    burst: int | None = None,
    key_prefix: str = DEFAULT_KEY_PREFIX,
) -> RateLimiter:
    """The limiter for one source: shared through Redis when `redis_url` is set, else local.

    Local buckets are shared by every caller in this process that names the same source
    and rate, so several clients of one source still add up to one limit.
    """
    if not redis_url:
        with _local_buckets_lock:
            return _local_buckets.setdefault((source_key, rpm, burst), LocalTokenBucket(rpm, burst))
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    return RedisTokenBucket(client, f"{key_prefix}:{source_key}", rpm, burst)
