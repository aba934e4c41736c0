"""The Stash side of the API: stored scene suggestions, feedback from the plugin, scans."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performers.models import Performer
from recognition.api.inputs import base64_bytes, float_param, int_param
from recognition.api.views import IdentifySceneView
from recognition.concurrency import identify_rate_check, inference_slot
from stash.client import StashClient
from stash.library_scans import scene_identify_from_stash
from stash.models import SceneScan, SceneSuggestion
from stash.plugin_feedback import FeedbackOutcome, FrameRef, feedback_confirm, feedback_reject
from stash.selectors import (
    scene_scans_recent,
    scene_suggestion_for,
    suggestion_result_current,
)
from stashsense.errors import ApplicationError, NotFound

SCENE_ID = re.compile(r"^[0-9]{1,20}$")
MAX_THUMBNAIL_CHARS = 2 * 1024 * 1024
MAX_KNOWN = 200

scene_id_validator = RegexValidator(SCENE_ID, 'A Stash scene id is a number, e.g. "42".')


def _scene_id(value: str) -> str:
    if not SCENE_ID.match(value):
        raise ApplicationError(
            "A Stash scene id is a number, e.g. /api/v1/scenes/42/suggestions.",
            code="invalid_scene_id",
        )
    return value


def _check_rate(request: Request) -> None:
    client = request.user
    identify_rate_check(
        key_id=getattr(client, "key_id", None), per_minute=getattr(client, "identify_per_minute", 0)
    )


# --- stored suggestions ----------------------------------------------------------------------


def suggestion_body(suggestion: SceneSuggestion) -> dict[str, Any]:
    return {
        "stash_scene_id": suggestion.stash_scene_id,
        "origin": suggestion.origin,
        "scan_id": suggestion.scan_id,
        "created_at": suggestion.created_at.isoformat(),
        "updated_at": suggestion.updated_at.isoformat(),
        "result": suggestion_result_current(suggestion=suggestion),
    }


_suggestion = inline_serializer(
    "SceneSuggestion",
    {
        "stash_scene_id": serializers.CharField(),
        "origin": serializers.ChoiceField(["scan", "request"]),
        "scan_id": serializers.IntegerField(allow_null=True),
        "created_at": serializers.DateTimeField(),
        "updated_at": serializers.DateTimeField(),
        "result": serializers.DictField(help_text="The body of POST /api/v1/identify/scene."),
    },
)


class SceneSuggestionsView(APIView):
    """Who is in a Stash scene: what was stored (GET) or identified now and stored (POST)."""

    parser_classes = [parsers.JSONParser]

    @extend_schema(responses={200: _suggestion})
    def get(self, request: Request, stash_scene_id: str) -> Response:
        suggestion = scene_suggestion_for(stash_scene_id=_scene_id(stash_scene_id))
        if suggestion is None:
            raise NotFound(
                f"Scene {stash_scene_id} has not been identified yet: POST here to do it now.",
                code="no_suggestions",
            )
        return Response(suggestion_body(suggestion))

    @extend_schema(
        request=inline_serializer(
            "SceneSuggestionsRun",
            {
                "known_performer_ids": serializers.ListField(
                    child=serializers.JSONField(), required=False
                ),
                "top_k": serializers.IntegerField(required=False, min_value=1, max_value=20),
                "threshold": serializers.FloatField(required=False, min_value=0, max_value=1),
            },
        ),
        responses={200: _suggestion},
    )
    def post(self, request: Request, stash_scene_id: str) -> Response:
        data = request.data
        if not isinstance(data, Mapping):
            raise ApplicationError("The request body must be a JSON object.", code="invalid")
        scene_id = _scene_id(stash_scene_id)
        top_k = int_param(data, "top_k", 3, 1, 20)
        threshold = float_param(data, "threshold", 0.0, 1.0)
        known = data.get("known_performer_ids", [])
        if not isinstance(known, list) or len(known) > MAX_KNOWN:
            raise ApplicationError(
                f"`known_performer_ids` must be a list ({MAX_KNOWN} at most).", code="invalid"
            )
        _check_rate(request)
        with inference_slot():
            suggestion = scene_identify_from_stash(
                stash_scene_id=scene_id, known_performer_ids=known, top_k=top_k, threshold=threshold
            )
        return Response(suggestion_body(suggestion))


# --- feedback --------------------------------------------------------------------------------


class BoxSerializer(serializers.Serializer[dict[str, int]]):
    x = serializers.IntegerField(min_value=0)
    y = serializers.IntegerField(min_value=0)
    w = serializers.IntegerField(min_value=1)
    h = serializers.IntegerField(min_value=1)


class FrameSerializer(serializers.Serializer[dict[str, Any]]):
    index = serializers.IntegerField(min_value=0, max_value=10_000)
    box = BoxSerializer(required=False)


class FeedbackSerializer(serializers.Serializer[dict[str, Any]]):
    stash_scene_id = serializers.CharField(max_length=20, validators=[scene_id_validator])
    person = serializers.IntegerField(min_value=0, max_value=10_000)
    performer_id = serializers.UUIDField(help_text="Our performer id (from the candidates).")
    decision = serializers.ChoiceField(["confirm", "reject"])
    thumbnail = serializers.CharField(
        required=False, max_length=MAX_THUMBNAIL_CHARS, help_text="data:image/jpeg;base64,..."
    )
    frames = serializers.ListField(
        child=FrameSerializer(),
        required=False,
        max_length=200,
        help_text="The person's frames as the identification returned them: {index, box}.",
    )


def feedback_body(outcome: FeedbackOutcome) -> dict[str, Any]:
    return {
        "decision": outcome.decision,
        "face_added": outcome.face is not None and not outcome.duplicate,
        "face_id": outcome.face.pk if outcome.face is not None else None,
        "duplicate": outcome.duplicate,
        "review_item_id": outcome.review_item_id,
        "confidence": outcome.confidence,
        "reason": outcome.reason,
    }


class FeedbackView(APIView):
    """The user confirmed or rejected a candidate for a person of a scene (the plugin's buttons)."""

    parser_classes = [parsers.JSONParser]

    @extend_schema(
        request=FeedbackSerializer,
        responses=inline_serializer(
            "FeedbackResult",
            {
                "decision": serializers.CharField(),
                "face_added": serializers.BooleanField(),
                "face_id": serializers.IntegerField(allow_null=True),
                "duplicate": serializers.BooleanField(),
                "review_item_id": serializers.IntegerField(allow_null=True),
                "confidence": serializers.FloatField(allow_null=True),
                "reason": serializers.CharField(),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        performer = Performer.objects.filter(pk=data["performer_id"]).first()
        if performer is None:
            raise NotFound(
                f"No performer {data['performer_id']} (merged or deleted since?).",
                code="performer_not_found",
            )
        thumbnail = base64_bytes(data["thumbnail"], "thumbnail") if data.get("thumbnail") else None
        common = {
            "stash_scene_id": data["stash_scene_id"],
            "person": data["person"],
            "performer": performer,
            "thumbnail": thumbnail,
        }
        if data["decision"] == "reject":
            return Response(feedback_body(feedback_reject(**common)))
        frames = [FrameRef(f["index"], f.get("box")) for f in data.get("frames") or []]
        with inference_slot():
            outcome = feedback_confirm(**common, frames=frames)
        return Response(feedback_body(outcome))


# --- library scans ---------------------------------------------------------------------------


def scan_body(scan: SceneScan) -> dict[str, Any]:
    return {
        "id": scan.pk,
        "status": scan.status,
        "options": scan.options,
        "progress": round(scan.progress, 4),
        "total": scan.total,
        "target": scan.target,
        "identified": scan.identified,
        "skipped": scan.skipped,
        "skip_reasons": scan.skip_reasons,
        "errors": scan.errors,
        "persons": scan.persons,
        "pages": scan.pages,
        "cursor": scan.cursor,
        "last_error": scan.last_error,
        "worker": scan.worker,
        "created_at": scan.created_at.isoformat(),
        "started_at": scan.started_at.isoformat() if scan.started_at else None,
        "heartbeat_at": scan.heartbeat_at.isoformat() if scan.heartbeat_at else None,
        "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
    }


class SceneScanListView(APIView):
    """The newest library scans with their progress (start one with `manage.py scan_library`)."""

    @extend_schema(responses=inline_serializer("SceneScans", {"scans": serializers.ListField()}))
    def get(self, request: Request) -> Response:
        return Response({"scans": [scan_body(scan) for scan in scene_scans_recent()]})


class StashIdentifySceneView(IdentifySceneView):
    """`POST /identify/scene`, which also takes a `stash_scene_id`: the scene read from Stash."""

    def scene_from_reference(self, data: Any, known: list[Any]) -> tuple[bytes, str] | None:
        if not data.get("stash_scene_id"):
            return None
        client = StashClient(settings.STASH_URL, settings.STASH_API_KEY)
        scene = client.find_scene(str(data["stash_scene_id"]))
        sprite, vtt = client.scene_sprite(scene)
        known.extend({"endpoint": s.endpoint, "stash_id": s.stash_id} for s in scene.cast_stash_ids)
        return sprite, vtt
