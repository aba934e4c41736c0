"""Cross-cutting API views: health."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import stashsense
from bundles.feed_updates import bundle_feed_status
from recognition.concurrency import inference_gate
from recognition.selectors import active_index_summary, inference_providers, inference_sessions
from stashsense.dependencies import RETRY_AFTER_SECONDS, dependency_states

HEALTH = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "unavailable"]),
        "index": serializers.DictField(allow_null=True),
        "providers": serializers.ListField(
            child=serializers.CharField(),
            help_text="The providers the serving profile's sessions run on.",
        ),
        "sessions": serializers.DictField(
            child=serializers.CharField(),
            help_text="The provider each session runs on, by role (detector, "
            "recogniser); empty when the models are missing.",
        ),
        "available_providers": serializers.ListField(
            child=serializers.CharField(),
            help_text="The providers this onnxruntime build offers.",
        ),
        "version": serializers.CharField(),
        "gallery_update": serializers.DictField(allow_null=True),
        "dependencies": serializers.DictField(
            child=serializers.ChoiceField(choices=["ok", "down"])
        ),
        "down": serializers.ListField(child=serializers.CharField()),
        "inference": serializers.DictField(child=serializers.IntegerField()),
    },
)


def gallery_update_summary() -> dict[str, Any] | None:
    """What the bundle feed offers beyond the installed bundle; None without a feed."""
    status = bundle_feed_status()
    if status is None:
        return None
    return {
        "installed": status.installed,
        "available": status.available,
        "update_available": status.update_available,
        "checked_at": status.checked_at.isoformat() if status.checked_at else None,
    }


class HealthView(APIView):
    """Open to everyone: is the service up, are its dependencies, is there an index to search?

    503 names the dependency that is down (database, cache, broker); "degraded" with 200 means
    up but not able to identify (no index yet). The inference queue shows how loaded it is.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HEALTH, 503: HEALTH})
    def get(self, request: Request) -> Response:
        states = dependency_states()
        down = [state.name for state in states if not state.ok]
        database_up = "database" not in down
        index = active_index_summary() if database_up else None
        # the serving profile is the newest index's: without the database, none is known
        sessions = inference_sessions() if database_up else {}
        overall = "ok" if index is not None and sessions else "degraded"
        if down:
            overall = "unavailable"
        response = Response(
            {
                "status": overall,
                "index": index,
                "providers": sorted(set(sessions.values())),
                "sessions": sessions,
                "available_providers": inference_providers(),
                "version": stashsense.__version__,
                "gallery_update": gallery_update_summary() if database_up else None,
                "dependencies": {state.name: state.status for state in states},
                "down": down,
                "inference": inference_gate().state(),
            },
            status=503 if down else 200,
        )
        if down:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
