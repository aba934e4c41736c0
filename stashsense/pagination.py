"""Paging for list endpoints, with bounds the database can always execute."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """`?limit=&offset=` with both capped: past 64 bits SQLite and PostgreSQL refuse the query.

    DRF leaves them unbounded, so `?limit=99999999999999999999` was a 500. A capped offset
    past the last row still gives an empty page, as before.
    """

    max_limit = 500
    max_offset = 1_000_000_000

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), self.max_offset)
