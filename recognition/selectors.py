"""Reads for recognition."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet

from recognition.choices import FaceStatus
from recognition.configured_profile import profile_for, serving_profile
from recognition.engine.errors import EngineError
from recognition.models import Face, IndexBuild
from stashsense.errors import ApplicationError

logger = logging.getLogger(__name__)


def active_index(profile: str | None = None) -> IndexBuild | None:
    return IndexBuild.objects.filter(profile=profile or serving_profile(), active=True).first()


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
        "calibration": calibration_summary(build.calibration),
    }


def calibration_summary(calibration: dict[str, Any]) -> dict[str, Any] | None:
    """The acceptance threshold an index uses, the false-accept rate it holds and its origin."""
    if not calibration:
        return None
    stats = calibration.get("stats") or {}
    return {
        "threshold": calibration.get("threshold"),
        "target_far": stats.get("target_far", calibration.get("target_far")),
        "far": stats.get("far"),
        "far_in_samples": stats.get("far_in_samples"),
        "threshold_method": stats.get("threshold_method"),
        "source": stats.get("source", "shipped"),
        "curve": stats.get("curve"),
        "genuine_samples": stats.get("genuine"),
        "impostor_samples": stats.get("impostor"),
        "faces": stats.get("faces"),
        "fitted_at": stats.get("fitted_at"),
    }


def inference_providers() -> list[str]:
    """The providers this onnxruntime build offers (not the ones the sessions got)."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def inference_sessions() -> dict[str, str]:
    """The provider each session of the serving profile really runs on, by role.

    Loads the profile once per process, as the first identification would (the container's
    health check so warms the server up); empty when its models are missing or do not load.
    """
    try:
        return profile_for().session_providers()
    except (ApplicationError, EngineError) as error:
        logger.warning("health: the serving profile does not load: %s", error)
        return {}


def performer_faces(*, performer_id: Any, profile: str | None = None) -> QuerySet[Face]:
    return Face.objects.filter(
        performer_id=performer_id,
        profile=profile or serving_profile(),
        status=FaceStatus.ACTIVE,
    ).order_by("-quality")
