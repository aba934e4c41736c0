"""Reads for recognition."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from recognition.choices import FaceStatus
from recognition.models import Face, IndexBuild


def active_index(profile: str | None = None) -> IndexBuild | None:
    return IndexBuild.objects.filter(
        profile=profile or settings.STASHSENSE_PROFILE, active=True
    ).first()


def active_index_summary() -> dict[str, Any] | None:
    """The index the server searches, or None when none is built yet."""
    build = active_index()
    if build is None:
        return None
    # The build's own counts: health is polled often, and counting a million-face table is not
    # free. They move with every build and index update.
    return {
        "profile": build.profile,
        "faces": build.faces,
        "performers": build.performers,
        "built_at": build.built_at.isoformat() if build.built_at else None,
        "calibrated": bool(build.calibration),
    }


def inference_providers() -> list[str]:
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def performer_faces(*, performer_id: Any, profile: str | None = None) -> QuerySet[Face]:
    return Face.objects.filter(
        performer_id=performer_id,
        profile=profile or settings.STASHSENSE_PROFILE,
        status=FaceStatus.ACTIVE,
    ).order_by("-quality")
