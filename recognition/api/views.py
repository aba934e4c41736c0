from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import parsers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.api.fields import video_too_large
from recognition.api.serializers import (
    IdentifyRequestSerializer,
    IdentifySceneRequestSerializer,
    ImageIdentificationSerializer,
    SceneIdentificationSerializer,
)
from recognition.api.throttles import IdentifyBudget
from recognition.concurrency import inference_slot
from recognition.identification import SceneIdentification, identify_image, identify_scene
from stashsense.http import MIB

PARSERS = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]


def refuse_oversized_body(request: Request) -> None:
    """A body announced larger than any video we take is refused before a byte is read."""
    declared = str(request.META.get("CONTENT_LENGTH") or "")
    if declared.isdigit() and int(declared) > int(settings.STASHSENSE_MAX_VIDEO_BYTES) + MIB:
        raise video_too_large()


class IdentifyView(APIView):
    """Who is in this image? Every face with its best candidates."""

    parser_classes = PARSERS
    throttle_classes = [IdentifyBudget]
    request_serializer: ClassVar[type[IdentifyRequestSerializer]] = IdentifyRequestSerializer

    @extend_schema(
        request=IdentifyRequestSerializer,
        responses=ImageIdentificationSerializer,
        examples=[
            OpenApiExample(
                "base64", value={"image_base64": "<base64 JPEG>", "top_k": 3}, request_only=True
            )
        ],
    )
    def post(self, request: Request) -> Response:
        body = self.request_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        sent = self.image_from_reference(dict(body.validated_data))
        with inference_slot():
            result = identify_image(
                data=sent["image"], top_k=sent["top_k"], threshold=sent["threshold"]
            )
        return Response(ImageIdentificationSerializer(result).data)

    def image_from_reference(self, sent: dict[str, Any]) -> dict[str, Any]:
        """The sent fields with the image's bytes for an image named rather than sent; the
        Stash side's view knows how (it fetches the image from Stash)."""
        return sent


class IdentifySceneView(APIView):
    """Who is in this scene? Faces of all frames clustered into persons, each with candidates."""

    parser_classes = PARSERS
    throttle_classes = [IdentifyBudget]
    request_serializer: ClassVar[type[IdentifySceneRequestSerializer]] = (
        IdentifySceneRequestSerializer
    )

    @extend_schema(request=IdentifySceneRequestSerializer, responses=SceneIdentificationSerializer)
    def post(self, request: Request) -> Response:
        refuse_oversized_body(request)
        body = self.request_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = self.identify(dict(body.validated_data))
        return Response(SceneIdentificationSerializer(result).data)

    def identify(self, scene: dict[str, Any]) -> SceneIdentification:
        """Identify the scene sent; the Stash side's view also knows scenes named by their
        Stash id (it reads the sprite, the video and the cast from Stash)."""
        with inference_slot():
            return identify_scene(**scene)
