"""Are the services we lean on reachable? The database, the cache (Redis) and the broker.

Health asks these on every poll, so each check is one round trip with a short timeout: a
dependency that hangs makes health slow by at most `CHECK_TIMEOUT_SECONDS`, never stuck.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
# How long a client should wait before asking again when a dependency is down.
RETRY_AFTER_SECONDS = 10


@dataclass(frozen=True)
class DependencyState:
    """One dependency: its name, whether it answered, and why not."""

    name: str
    ok: bool
    error: str = ""

    @property
    def status(self) -> str:
        # Only the state: health is open to everyone, and a driver's message names hosts and
        # ports. The error itself goes to the log.
        return "ok" if self.ok else "down"


def database_state() -> DependencyState:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        # Drop the broken connection, so the next request connects afresh once it is back.
        connection.close_if_unusable_or_obsolete()
        return DependencyState("database", False, _first_line(error))
    return DependencyState("database", True)


def redis_state(name: str, url: str) -> DependencyState:
    """PING a Redis at `url` (the cache, or a Redis broker)."""
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return DependencyState(name, False, _first_line(error))
    finally:
        client.close()
    return DependencyState(name, True)


def broker_state(url: str) -> DependencyState:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return redis_state("broker", url)
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=CHECK_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(max_retries=1, timeout=int(CHECK_TIMEOUT_SECONDS))
    except Exception as error:  # kombu raises the transport's own kinds
        return DependencyState("broker", False, _first_line(error))
    return DependencyState("broker", True)


def dependency_states() -> list[DependencyState]:
    """The database always; the cache and the broker when they are configured (not embedded)."""
    states = [database_state()]
    if settings.REDIS_URL:
        states.append(redis_state("cache", settings.REDIS_URL))
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        states.append(broker_state(settings.CELERY_BROKER_URL))
    for state in states:
        if not state.ok:
            logger.warning("Dependency %s is down: %s", state.name, state.error)
    return states


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]
