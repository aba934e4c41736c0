"""The Stash side of the API: stored scene suggestions, feedback from the plugin, scans."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import parsers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.api.serializers import (
    ImageIdentificationSerializer,
    SceneIdentificationSerializer,
)
from recognition.api.throttles import IdentifyBudget
from recognition.api.views import PARSERS, IdentifySceneView, IdentifyView
from recognition.concurrency import inference_slot
from recognition.identification import SceneIdentification
from stash.api.serializers import (
    SCENE_ID_PATTERN,
    FeedbackRequestSerializer,
    FeedbackResultSerializer,
    GalleryIdentificationSerializer,
    IdentifyGalleryRequestSerializer,
    SceneScanListSerializer,
    SceneSuggestionRequestSerializer,
    SceneSuggestionSerializer,
    StashIdentifyRequestSerializer,
    StashIdentifySceneRequestSerializer,
)
from stash.images import (
    gallery_identify,
    stash_gallery_media,
    stash_image_media,
    stash_image_unreadable,
)
from stash.library_scans import scene_identify_from_stash, stash_client
from stash.plugin_feedback import feedback_confirm, feedback_reject
from stash.scene_sources import stash_scene_identify
from stash.selectors import scene_scans_recent, scene_suggestion_for
from stashsense.errors import InvalidInput, NotFound

SCENE_ID = re.compile(SCENE_ID_PATTERN)


def _scene_id(value: str) -> str:
    if not SCENE_ID.match(value):
        raise InvalidInput(
            "A Stash scene id is a number, e.g. /api/v1/scenes/42/suggestions.",
            code="invalid_scene_id",
        )
    return value


class SceneSuggestionsView(APIView):
    """Who is in a Stash scene: what was stored (GET) or identified now and stored (POST)."""

    parser_classes = [parsers.JSONParser]
    throttle_classes = [IdentifyBudget]  # the POST identifies

    @extend_schema(responses={200: SceneSuggestionSerializer})
    def get(self, request: Request, stash_scene_id: str) -> Response:
        suggestion = scene_suggestion_for(stash_scene_id=_scene_id(stash_scene_id))
        if suggestion is None:
            raise NotFound(
                f"Scene {stash_scene_id} has not been identified yet: POST here to do it now.",
                code="no_suggestions",
            )
        return Response(SceneSuggestionSerializer(suggestion).data)

    @extend_schema(
        request=SceneSuggestionRequestSerializer, responses={200: SceneSuggestionSerializer}
    )
    def post(self, request: Request, stash_scene_id: str) -> Response:
        body = SceneSuggestionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scene_id = _scene_id(stash_scene_id)
        with inference_slot():
            suggestion = scene_identify_from_stash(stash_scene_id=scene_id, **body.validated_data)
        return Response(SceneSuggestionSerializer(suggestion).data)


class FeedbackView(APIView):
    """The user confirmed or rejected a candidate for a person of a scene (the plugin's buttons)."""

    parser_classes = [parsers.JSONParser]

    @extend_schema(request=FeedbackRequestSerializer, responses=FeedbackResultSerializer)
    def post(self, request: Request) -> Response:
        body = FeedbackRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        feedback = dict(body.validated_data)
        decision, frames = feedback.pop("decision"), feedback.pop("frames")
        if decision == "reject":
            outcome = feedback_reject(**feedback)
        else:
            with inference_slot():  # the person's face is detected again
                outcome = feedback_confirm(**feedback, frames=frames)
        return Response(FeedbackResultSerializer(outcome).data)


class SceneScanListView(APIView):
    """The newest library scans with their progress (start one with `manage.py scan_library`)."""

    @extend_schema(responses=SceneScanListSerializer)
    def get(self, request: Request) -> Response:
        return Response(SceneScanListSerializer({"scans": scene_scans_recent()}).data)


class StashIdentifySceneView(IdentifySceneView):
    """`POST /identify/scene`, which also takes a `stash_scene_id`: the scene read from Stash."""

    request_serializer: ClassVar[type[StashIdentifySceneRequestSerializer]] = (
        StashIdentifySceneRequestSerializer
    )

    @extend_schema(
        request=StashIdentifySceneRequestSerializer, responses=SceneIdentificationSerializer
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def identify(self, scene: dict[str, Any]) -> SceneIdentification:
        stash_scene_id = scene.pop("stash_scene_id", None)
        if stash_scene_id is None:
            return super().identify(scene)
        with inference_slot():
            _, result = stash_scene_identify(
                stash_scene_id=stash_scene_id,
                mode=scene["mode"],
                frame_count=scene["frame_count"],
                known_performer_ids=scene["known_performer_ids"],
                top_k=scene["top_k"],
                threshold=scene["threshold"],
                client=stash_client(),
            )
        return result


class StashIdentifyView(IdentifyView):
    """`POST /identify`, which also takes a `stash_image_id`: the picture fetched from Stash."""

    request_serializer: ClassVar[type[StashIdentifyRequestSerializer]] = (
        StashIdentifyRequestSerializer
    )
    stash_image_id: str | None = None

    @extend_schema(request=StashIdentifyRequestSerializer, responses=ImageIdentificationSerializer)
    def post(self, request: Request) -> Response:
        try:
            return super().post(request)
        except InvalidInput as error:
            if self.stash_image_id is None:
                raise
            # Stash's picture does not decode: Stash's content, not a bad request.
            raise stash_image_unreadable(self.stash_image_id, error) from error

    def image_from_reference(self, sent: dict[str, Any]) -> dict[str, Any]:
        stash_image_id = sent.pop("stash_image_id", None)
        if stash_image_id is None:
            return sent
        media = stash_image_media(stash_image_id=stash_image_id)
        self.stash_image_id = media.image_id
        return {**sent, "image": media.data}


class IdentifyGalleryView(APIView):
    """Who is in a Stash gallery? Faces of all its images clustered into persons, each with
    candidates and the images they appear in."""

    parser_classes = PARSERS
    throttle_classes = [IdentifyBudget]

    @extend_schema(
        request=IdentifyGalleryRequestSerializer, responses=GalleryIdentificationSerializer
    )
    def post(self, request: Request) -> Response:
        body = IdentifyGalleryRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sent = dict(body.validated_data)
        # Downloading is Stash's time, not the models': only identifying holds a slot.
        media = stash_gallery_media(
            stash_gallery_id=sent.pop("stash_gallery_id"), max_images=sent.pop("max_images", None)
        )
        with inference_slot():
            result = gallery_identify(media=media, **sent)
        return Response(GalleryIdentificationSerializer(result).data)
