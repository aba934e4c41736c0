"""Domain errors. Services raise them; the API's exception handler maps each kind to a status.

The kinds say what went wrong in the domain's words, never which HTTP status follows: that
mapping lives once, in `stashsense.exceptions`. A more specific error subclasses both its
family and a kind (`class StashSceneMissing(StashError, NotFound)`).
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request the domain refuses, with a stable machine-readable code."""

    def __init__(
        self, message: str, *, code: str = "invalid", extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


class InvalidInput(ApplicationError):
    """What was sent cannot be used: a malformed field, an image that is not one."""


class NotFound(ApplicationError):
    """The thing asked about does not exist (or no longer does)."""


class Conflict(ApplicationError):
    """The thing exists but its state forbids this now: claimed, decided, taken, merged."""


class TooLarge(ApplicationError):
    """What was sent is over a size limit."""


class Unprocessable(ApplicationError):
    """Well-formed, but there is nothing to work with (a scene without a sprite, say)."""


class UpstreamFailed(ApplicationError):
    """A service we depend on (the user's Stash) could not be reached or refused us."""


class TimedOut(ApplicationError):
    """Bounded work ran past its time limit: a stream that stalls, a decode that drags on."""


class TryLater(ApplicationError):
    """Refused for now; `retry_after` (seconds) says when asking again makes sense."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, extra=extra)
        self.retry_after = retry_after


class RateLimited(TryLater):
    """This caller has used up its budget of requests for now."""


class Unavailable(TryLater):
    """The service cannot do this now: no index yet, models missing, every slot busy."""
