from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import parsers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.api.inputs import (
    base64_bytes,
    float_param,
    image_from_request,
    int_param,
    request_fields,
    uploaded_bytes,
)
from recognition.concurrency import identify_rate_check, inference_slot
from recognition.identification import identify_image, identify_scene
from stashsense.errors import ApplicationError

PARSERS = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

_match = inline_serializer(
    "Match",
    {
        "performer": inline_serializer(
            "MatchPerformer",
            {
                "id": serializers.UUIDField(),
                "name": serializers.CharField(),
                "disambiguation": serializers.CharField(),
                "stash_ids": serializers.ListField(child=serializers.DictField()),
            },
        ),
        "score": serializers.FloatField(),
        "confidence": serializers.FloatField(),
        "distance": serializers.FloatField(),
    },
    many=True,
)


def _check_rate(request: Request) -> None:
    client = request.user
    identify_rate_check(
        key_id=getattr(client, "key_id", None), per_minute=getattr(client, "identify_per_minute", 0)
    )


class IdentifyView(APIView):
    """Who is in this image? Every face with its best candidates."""

    parser_classes = PARSERS

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "IdentifyUpload",
                {
                    "image": serializers.ImageField(),
                    "top_k": serializers.IntegerField(required=False),
                    "threshold": serializers.FloatField(required=False),
                },
            ),
            "application/json": inline_serializer(
                "IdentifyJson",
                {
                    "image_base64": serializers.CharField(required=False),
                    "image_url": serializers.URLField(required=False),
                    "top_k": serializers.IntegerField(required=False, min_value=1, max_value=20),
                    "threshold": serializers.FloatField(required=False, min_value=0, max_value=1),
                },
            ),
        },
        responses=inline_serializer(
            "IdentifyResult",
            {
                "faces": inline_serializer(
                    "IdentifiedFace",
                    {
                        "box": serializers.DictField(),
                        "det_score": serializers.FloatField(),
                        "quality": serializers.FloatField(),
                        "matches": _match,
                    },
                    many=True,
                ),
                "profile": serializers.CharField(),
                "index_version": serializers.CharField(),
                "timings_ms": serializers.DictField(),
            },
        ),
        examples=[
            OpenApiExample(
                "base64", value={"image_base64": "<base64 JPEG>", "top_k": 3}, request_only=True
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data, files = request_fields(request.data), request.FILES
        top_k = int_param(data, "top_k", 3, 1, 20)
        threshold = float_param(data, "threshold", 0.0, 1.0)
        _check_rate(request)
        image = image_from_request(data, files)
        with inference_slot():
            return Response(identify_image(data=image, top_k=top_k, threshold=threshold))


def _known_ids(data: Any) -> list[Any]:
    raw = data.get("known_performer_ids", [])
    if isinstance(raw, str):
        try:
            raw = (
                json.loads(raw)
                if raw.strip().startswith("[")
                else [x for x in raw.split(",") if x.strip()]
            )
        except json.JSONDecodeError as error:
            raise ApplicationError(
                "`known_performer_ids` is not valid JSON.", code="invalid"
            ) from error
    if not isinstance(raw, list) or len(raw) > 200:
        raise ApplicationError(
            "`known_performer_ids` must be a list (200 at most).", code="invalid"
        )
    for item in raw:  # PostgreSQL cannot compare text with a NUL character
        values = item.values() if isinstance(item, dict) else [item]
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise ApplicationError("`known_performer_ids` holds a NUL character.", code="invalid")
    return raw


def _vtt_text(data: Any, files: Any) -> str | None:
    if "vtt" in files:
        return uploaded_bytes(files["vtt"], "vtt").decode("utf-8", errors="replace")
    value = data.get("vtt")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApplicationError("`vtt` must be text or a file.", code="invalid")
    return value


class IdentifySceneView(APIView):
    """Who is in this scene? Faces of all frames clustered into persons, each with candidates."""

    parser_classes = PARSERS

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "IdentifySceneUpload",
                {"sprite": serializers.ImageField(), "vtt": serializers.FileField()},
            ),
            "application/json": inline_serializer(
                "IdentifySceneJson",
                {
                    "sprite_base64": serializers.CharField(required=False),
                    "vtt": serializers.CharField(required=False),
                    "frames": serializers.ListField(child=serializers.CharField(), required=False),
                    "stash_scene_id": serializers.CharField(required=False),
                    "known_performer_ids": serializers.ListField(
                        child=serializers.JSONField(), required=False
                    ),
                    "top_k": serializers.IntegerField(required=False, min_value=1, max_value=20),
                    "threshold": serializers.FloatField(required=False, min_value=0, max_value=1),
                },
            ),
        },
        responses=inline_serializer(
            "IdentifySceneResult",
            {
                "frames": serializers.IntegerField(),
                "faces": serializers.IntegerField(),
                "persons": serializers.ListField(child=serializers.DictField()),
                "timings_ms": serializers.DictField(),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        data, files = request_fields(request.data), request.FILES
        top_k = int_param(data, "top_k", 3, 1, 20)
        threshold = float_param(data, "threshold", 0.0, 1.0)
        known = _known_ids(data)
        _check_rate(request)
        sprite, vtt, frames = self._inputs(data, files, known)
        with inference_slot():
            body = identify_scene(
                sprite=sprite,
                vtt=vtt,
                frames=frames,
                known_performer_ids=known,
                top_k=top_k,
                threshold=threshold,
            )
        return Response(body)

    def _inputs(
        self, data: Any, files: Any, known: list[Any]
    ) -> tuple[bytes | None, str | None, list[bytes] | None]:
        referenced = self.scene_from_reference(data, known)
        if referenced is not None:
            return (*referenced, None)
        if "sprite" in files:
            return uploaded_bytes(files["sprite"], "sprite"), _vtt_text(data, files), None
        if data.get("sprite_base64"):
            return (
                base64_bytes(data["sprite_base64"], "sprite_base64"),
                _vtt_text(data, files),
                None,
            )
        raw_frames = data.get("frames")
        if raw_frames:
            if not isinstance(raw_frames, list):
                raise ApplicationError("`frames` must be a list of base64 images.", code="invalid")
            if len(raw_frames) > settings.STASHSENSE_MAX_FRAMES:
                raise ApplicationError(
                    f"At most {settings.STASHSENSE_MAX_FRAMES} frames per request.",
                    code="too_many_frames",
                )
            return (
                None,
                None,
                [base64_bytes(frame, f"frames[{i}]") for i, frame in enumerate(raw_frames)],
            )
        if "image" in files or data.get("image_base64"):
            return None, None, [image_from_request(data, files)]
        raise ApplicationError(
            "Send `sprite` + `vtt`, `frames` or `stash_scene_id`.", code="no_scene"
        )

    def scene_from_reference(self, data: Any, known: list[Any]) -> tuple[bytes, str] | None:
        """A scene named rather than sent (sprite, VTT); the Stash side's view knows how."""
        return None
