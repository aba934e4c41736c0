"""Fetches a request waits on, bounded in time and in number.

A fetch runs on a small pool of its own threads; the request thread waits for it at most
`deadline` seconds in all (connect, headers, body, retries, redirects together: a server that
drips a byte every few seconds cannot stretch it). Only `max_running` fetches of one kind may be
in flight, counting those whose caller gave up but whose socket has not timed out yet; one more
is refused at once. So upstreams that hang hold at most `max_running` of the server's threads
for at most `deadline`, and the rest (health, reads, other identifications) keep answering.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from django.conf import settings

from stashsense.http.errors import OutboundError

logger = logging.getLogger("stashsense.http")

_Result = TypeVar("_Result")


class FetchesBusy(OutboundError):
    """Every fetch slot of this kind is taken (upstreams slow or hanging): refused at once."""


class FetchDeadlineExceeded(OutboundError):
    """The fetch took longer than its deadline in all; the caller stopped waiting for it."""


class BoundedFetches:
    """At most `max_running` fetches in flight, each waited for at most `deadline` seconds."""

    def __init__(self, name: str, *, max_running: int, deadline: float) -> None:
        self.name = name
        self.max_running = max_running
        self.deadline = deadline
        self._slots = threading.BoundedSemaphore(max_running)
        self._pool = ThreadPoolExecutor(max_workers=max_running, thread_name_prefix=f"fetch-{name}")
        self._lock = threading.Lock()
        self._running = 0

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    def run(self, fetch: Callable[[], _Result]) -> _Result:
        """`fetch()` on the pool; FetchesBusy when no slot is free, FetchDeadlineExceeded late."""
        if not self._slots.acquire(blocking=False):
            raise FetchesBusy(f"{self.max_running} {self.name} fetches are already in flight")
        with self._lock:
            self._running += 1
        # The slot goes back when the fetch itself ends, not when its caller stops waiting:
        # a hung socket keeps counting against the bound until its own timeouts close it.
        future = self._pool.submit(self._run_then_release, fetch)
        try:
            return future.result(timeout=self.deadline)
        except FutureTimeout as error:
            future.cancel()
            logger.warning("%s fetch passed its %.0f s deadline", self.name, self.deadline)
            raise FetchDeadlineExceeded(
                f"{self.name} fetch took longer than {self.deadline:g} s"
            ) from error

    def _run_then_release(self, fetch: Callable[[], _Result]) -> _Result:
        try:
            return fetch()
        finally:
            with self._lock:
                self._running -= 1
            self._slots.release()


_kinds: dict[str, BoundedFetches] = {}
_kinds_lock = threading.Lock()


def bounded_fetches(name: str) -> BoundedFetches:
    """The process's bound for one kind of fetch (`image_url`, `stash`), sized by settings."""
    with _kinds_lock:
        if name not in _kinds:
            _kinds[name] = BoundedFetches(
                name,
                max_running=settings.STASHSENSE_FETCH_CONCURRENCY,
                deadline=float(settings.STASHSENSE_FETCH_DEADLINE_SECONDS),
            )
        return _kinds[name]
