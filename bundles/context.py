"""What one import carries from batch to batch."""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from bundles.decisions import LocalDecisions
from bundles.format import corrupt
from bundles.models import BundleImport


@dataclass
class ImportContext:
    """The import being applied: its record, the local decisions, sources and counts."""

    record: BundleImport
    profile: str
    decisions: LocalDecisions
    source_ids: dict[str, int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    # Every face of the bundle is active here under its own id: the bundle's index fits as is.
    faces_identical: bool = True
    # Faces this import created (their ids may have meant other faces in the active index),
    # and the bundle faces that hold their bundle id here (the bundle's index labels).
    created_face_ids: array[int] = field(default_factory=lambda: array("q"))
    same_id_faces: array[int] = field(default_factory=lambda: array("q"))
    # (pk, performer, endpoint, stash_id) of stash IDs that mirrored identities lost, and the
    # (endpoint, stash_id) pairs kept where they are for a pair kept apart.
    stale_stash_ids: list[tuple[int, str, str, str]] = field(default_factory=list)
    stash_ids_kept: set[tuple[str, str]] = field(default_factory=set)
    index_file: Path | None = None

    @property
    def seen_in(self) -> int:
        return self.record.pk

    @property
    def actor(self) -> str:
        return f"bundle:{self.record.version}"


def uuid_of(value: Any, what: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as error:
        raise corrupt(f"{what} {value!r} is not a UUID") from error


def int_of(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise corrupt(f"{what} {value!r} is not a positive integer")
    return value


def datetime_of(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as error:
        raise corrupt(f"{value!r} is not a date and time") from error
