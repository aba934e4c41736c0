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
from recognition.selectors import active_index_summary, inference_providers, inference_sessions


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
    """Open to everyone: is the service up, and is there an index to search?"""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "status": serializers.ChoiceField(choices=["ok", "degraded"]),
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
            },
        )
    )
    def get(self, request: Request) -> Response:
        index = active_index_summary()
        sessions = inference_sessions()
        return Response(
            {
                "status": "ok" if index is not None and sessions else "degraded",
                "index": index,
                "providers": sorted(set(sessions.values())),
                "sessions": sessions,
                "available_providers": inference_providers(),
                "version": stashsense.__version__,
                "gallery_update": gallery_update_summary(),
            }
        )
