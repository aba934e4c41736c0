"""Applied performer edits that remove a performer from the listing, parsed at the edge.

`queryPerformers` lists live performers only: a performer deleted (DESTROY) or merged into
another (MERGE) upstream simply stops appearing. The edit history names them, newest closed
first, which is how incremental syncs find them without looking up every entry we hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from scraping.sources.base import RemovalsUnavailable
from scraping.sources.stashbox.performer import StashBoxDataError, parse_time

RemovalOperation = Literal["DESTROY", "MERGE"]


class EditsUnavailable(RemovalsUnavailable):
    """The server answered the edit query with an error (an older instance without
    `queryEdits`, or a key that may not read edits): removals are left to full syncs."""


@dataclass(frozen=True)
class PerformerRemoval:
    """One applied DESTROY or MERGE edit of performers.

    DESTROY deleted `target_id`; MERGE merged each of `merge_source_ids` into `target_id`.
    `target_deleted` and `target_merged_into_id` are the target's state now, not at the edit.
    """

    edit_id: str
    operation: str
    closed: datetime | None
    target_id: str | None
    target_deleted: bool = False
    target_merged_into_id: str | None = None
    merge_source_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemovalPage:
    """One LIMIT/OFFSET page of `queryEdits`; `count` is the total over all pages."""

    count: int
    removals: list[PerformerRemoval]
    page: int
    per_page: int

    @property
    def has_more(self) -> bool:
        return self.page * self.per_page < self.count


def parse_removal(raw: Mapping[str, Any]) -> PerformerRemoval:
    """An `Edit` as `edits.graphql` selects it; `StashBoxDataError` on a wrong shape."""
    try:
        target = raw.get("target") or {}
        return PerformerRemoval(
            edit_id=str(raw["id"]),
            operation=str(raw["operation"]),
            closed=parse_time(raw.get("closed")),
            target_id=_optional_id(target.get("id")),
            target_deleted=bool(target.get("deleted", False)),
            target_merged_into_id=_optional_id(target.get("merged_into_id")),
            merge_source_ids=tuple(
                str(source["id"]) for source in raw.get("merge_sources") or () if source.get("id")
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        edit_id = raw.get("id") if isinstance(raw, Mapping) else None
        raise StashBoxDataError(f"unexpected edit shape (id={edit_id!r}): {error!r}") from error


def parse_removal_page(raw: Mapping[str, Any], *, page: int, per_page: int) -> RemovalPage:
    try:
        count = int(raw["count"])
        rows = list(raw["edits"])
    except (KeyError, TypeError, ValueError) as error:
        raise StashBoxDataError(f"unexpected queryEdits shape: {error!r}") from error
    return RemovalPage(
        count=count,
        removals=[parse_removal(row) for row in rows],
        page=page,
        per_page=per_page,
    )


def _optional_id(value: Any) -> str | None:
    return str(value) if value else None
