"""Bounded inference: a few identifications at once per process, a bounded queue, then 503."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.core.cache import cache

from stashsense.errors import RateLimited, Unavailable

logger = logging.getLogger(__name__)


class InferenceGate:
    """A few identifications at once, a bounded queue behind them, and 503 beyond it.

    A caller that finds every slot taken waits in the queue (at most `wait_seconds`); when the
    queue itself is full it is refused at once: a client told "busy, retry in 5 s" beats one
    whose request waits half a minute to be told the same.
    """

    def __init__(self, slots: int, max_waiting: int) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self.running = 0
        self.waiting = 0
        self._freed = threading.Condition()

    def acquire(self, wait_seconds: float) -> None:
        with self._freed:
            if self.running < self.slots:
                self.running += 1
                return
            if self.waiting >= self.max_waiting:
                raise _busy(f"{self.waiting} requests are already waiting")
            self.waiting += 1
            try:
                got = self._freed.wait_for(lambda: self.running < self.slots, timeout=wait_seconds)
            finally:
                self.waiting -= 1
            if not got:
                raise _busy(f"no slot freed within {wait_seconds:g} s")
            self.running += 1

    def release(self) -> None:
        with self._freed:
            self.running -= 1
            self._freed.notify()

    def state(self) -> dict[str, int]:
        with self._freed:
            return {
                "slots": self.slots,
                "running": self.running,
                "waiting": self.waiting,
                "max_waiting": self.max_waiting,
            }


def _busy(reason: str) -> Unavailable:
    return Unavailable(
        f"The server is busy identifying other images ({reason}); try again shortly.",
        code="busy",
        retry_after=5,
    )


_gate: InferenceGate | None = None
_gate_lock = threading.Lock()


def inference_gate() -> InferenceGate:
    """This process's gate, sized from the settings the first time it is asked for."""
    global _gate
    with _gate_lock:
        if _gate is None:
            _gate = InferenceGate(
                settings.STASHSENSE_INFERENCE_CONCURRENCY, settings.STASHSENSE_INFERENCE_QUEUE_DEPTH
            )
        return _gate


@contextmanager
def inference_slot(wait_seconds: float | None = None) -> Iterator[None]:
    """Hold one of the process's inference slots; Unavailable (`busy`) when the queue is full
    or no slot frees in time.

    Inference runs in the request's worker thread (onnxruntime and dlib release the GIL), never
    on an event loop that serves other requests.
    """
    wait = settings.STASHSENSE_INFERENCE_QUEUE_SECONDS if wait_seconds is None else wait_seconds
    gate = inference_gate()
    gate.acquire(wait)
    try:
        yield
    finally:
        gate.release()


def _identify_count(key_id: int) -> int:
    window = int(time.time() // 60)
    cache_key = f"ratelimit:identify:{key_id}:{window}"
    cache.add(cache_key, 0, timeout=120)
    try:
        return int(cache.incr(cache_key))
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=120)
        return 1


def identify_rate_check(*, key_id: int | None, per_minute: int) -> None:
    """Per-key request budget for identification (fixed one-minute windows in the cache)."""
    if not per_minute or key_id is None:
        return
    try:
        count = _identify_count(key_id)
    except (redis.RedisError, OSError) as error:
        # Fail open: a Redis outage must not take identification down with it. The budget is
        # there against a runaway client, and the bounded inference queue still holds the
        # line on load; counting resumes when Redis is back.
        logger.warning("Identify rate limit not applied (cache unreachable): %s", error)
        return
    if count > per_minute:
        retry = 60 - int(time.time() % 60)
        raise RateLimited(
            f"Too many identification requests for this key ({per_minute} per minute).",
            code="rate_limited",
            retry_after=retry,
        )
