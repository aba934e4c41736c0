"""Reads for the Stash side of identification: library scans and stored scene suggestions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from performers.models import Performer
from stash.choices import SceneScanStatus
from stash.models import SceneScan, SceneSuggestion

UNFINISHED = [SceneScanStatus.PENDING, SceneScanStatus.RUNNING, SceneScanStatus.FAILED]


def scene_scans_recent(*, limit: int = 10) -> QuerySet[SceneScan]:
    """The newest library scans, for the jobs page and `GET /api/v1/scans`."""
    return SceneScan.objects.order_by("-created_at")[:limit]


def scene_scan_unfinished(*, options: Mapping[str, Any]) -> SceneScan | None:
    """The newest scan with these options that has not finished (to resume it)."""
    for scan in SceneScan.objects.filter(status__in=UNFINISHED).order_by("-created_at"):
        if scan.options == dict(options):
            return scan
    return None


def scene_suggestion_for(*, stash_scene_id: str) -> SceneSuggestion | None:
    return SceneSuggestion.objects.filter(stash_scene_id=stash_scene_id).first()


def scene_suggestion_person(
    *, stash_scene_id: str, person: int
) -> tuple[SceneSuggestion | None, dict[str, Any] | None]:
    """The stored suggestion of a scene and its `person`-th person (None when either is missing)."""
    suggestion = scene_suggestion_for(stash_scene_id=stash_scene_id)
    if suggestion is None:
        return None, None
    persons = suggestion.result.get("persons") or []
    if not 0 <= person < len(persons) or not isinstance(persons[person], dict):
        return suggestion, None
    return suggestion, persons[person]


def suggestion_performers(*, suggestion: SceneSuggestion) -> dict[str, Performer]:
    """The performers a stored suggestion names, as they are now, by id.

    Those deleted or merged away since the scene was identified are missing (a re-run names
    the survivor).
    """
    keys = {
        str(match["performer"].get("id"))
        for person in suggestion.result.get("persons") or []
        if isinstance(person, dict)
        for match in person.get("matches") or []
        if isinstance(match, dict) and isinstance(match.get("performer"), dict)
    }
    rows = Performer.objects.filter(pk__in=[key for key in keys if _is_uuid(key)])
    return {str(p.pk): p for p in rows.prefetch_related("stash_ids")}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
