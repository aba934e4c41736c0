"""Each API key's budget of identifications, checked before a request's body is read."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from recognition.concurrency import identify_rate_check


class IdentifyBudget(BaseThrottle):
    """`ApiKey.identify_per_minute` for the views whose POST identifies.

    Over budget it raises RateLimited (a domain error with its own body and Retry-After)
    rather than answering False, which would give DRF's generic `throttled` body.
    """

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method == "POST":
            client = request.user
            identify_rate_check(
                key_id=getattr(client, "key_id", None),
                per_minute=getattr(client, "identify_per_minute", 0),
            )
        return True
