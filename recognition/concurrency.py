"""Bounded inference: a few identifications at once per process, the rest wait or get 503."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

from stashsense.errors import RateLimited, Unavailable

_gate: threading.BoundedSemaphore | None = None
_gate_lock = threading.Lock()


def _semaphore() -> threading.BoundedSemaphore:
    global _gate
    with _gate_lock:
        if _gate is None:
            _gate = threading.BoundedSemaphore(settings.STASHSENSE_INFERENCE_CONCURRENCY)
        return _gate


@contextmanager
def inference_slot(wait_seconds: float | None = None) -> Iterator[None]:
    """Hold one of the process's inference slots; Unavailable (`busy`) when none frees in time.

    Inference runs in the request's worker thread (onnxruntime and dlib release the GIL), never
    on an event loop that serves other requests.
    """
    wait = settings.STASHSENSE_INFERENCE_QUEUE_SECONDS if wait_seconds is None else wait_seconds
    semaphore = _semaphore()
    if not semaphore.acquire(timeout=wait):
        raise Unavailable(
            "The server is busy identifying other images; try again shortly.",
            code="busy",
            retry_after=5,
        )
    try:
        yield
    finally:
        semaphore.release()


def identify_rate_check(*, key_id: int | None, per_minute: int) -> None:
    """Per-key request budget for identification (fixed one-minute windows in the cache)."""
    if not per_minute or key_id is None:
        return
    window = int(time.time() // 60)
    cache_key = f"ratelimit:identify:{key_id}:{window}"
    cache.add(cache_key, 0, timeout=120)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=120)
        count = 1
    if count > per_minute:
        retry = 60 - int(time.time() % 60)
        raise RateLimited(
            f"Too many identification requests for this key ({per_minute} per minute).",
            code="rate_limited",
            retry_after=retry,
        )
