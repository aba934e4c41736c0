"""Handing a task to the broker, with an outage turned into a domain error, not a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kombu.exceptions import OperationalError as BrokerUnreachable

from stashsense.errors import Unavailable

logger = logging.getLogger(__name__)

BROKER_RETRY_AFTER_SECONDS = 30


def task_send(send: Callable[[], Any], *, what: str, on_failure: Callable[[str], None]) -> None:
    """Call `send` (a `task.delay`); when the broker is unreachable, record it with
    `on_failure(message)` (so no job waits for a task that never comes) and raise Unavailable.
    """
    try:
        send()
    except (BrokerUnreachable, OSError) as error:
        message = f"The task queue (broker) is unreachable, so {what} was not queued; queue it again once it is back."
        logger.warning("%s (%s)", message, error)
        on_failure(message)
        raise Unavailable(
            message, code="broker_unavailable", retry_after=BROKER_RETRY_AFTER_SECONDS
        ) from error
