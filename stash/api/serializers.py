"""The Stash side's bodies: scenes named by id, the plugin's feedback, stored suggestions, scans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from performers.api.serializers import PerformerSummarySerializer
from performers.models import Performer
from recognition.api.fields import (
    KnownPerformersField,
    RoundedFloatField,
    ThresholdField,
    base64_bytes,
    top_k_field,
)
from recognition.api.serializers import (
    FaceBoxSerializer,
    IdentifiedPersonSerializer,
    IdentifyRequestSerializer,
    IdentifySceneRequestSerializer,
    SceneIdentificationSerializer,
)
from recognition.video import DEFAULT_FRAMES, MAX_FRAMES, MIN_FRAMES
from stash.choices import SuggestionOrigin
from stash.images import GalleryIdentification, PersonImage, SkippedImage
from stash.models import SceneScan, SceneSuggestion
from stash.plugin_feedback import FeedbackOutcome, FrameRef
from stash.selectors import suggestion_performers
from stashsense.errors import InvalidInput, NotFound
from stashsense.serializers import FirstErrorSerializer

SCENE_ID_PATTERN = r"^[0-9]{1,20}$"
MAX_THUMBNAIL_CHARS = 2 * 1024 * 1024

scene_id_validator = RegexValidator(SCENE_ID_PATTERN, 'A Stash scene id is a number, e.g. "42".')


@extend_schema_field(OpenApiTypes.DATETIME)
class IsoDateTimeField(serializers.Field[datetime, str, str, Any]):
    """A time as Python's isoformat() writes it (`+00:00`, not DRF's `Z`), as always shown."""

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


# --- scenes named by their Stash id ----------------------------------------------------------


class StashIdentifySceneRequestSerializer(IdentifySceneRequestSerializer):
    """`POST /identify/scene`, which also takes a `stash_scene_id`: the scene read from Stash."""

    stash_scene_id = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="A scene of the configured Stash; its sprite, video stream (HTTP Range), "
        "screenshot and cast are read from there (`mode` auto by default).",
        error_messages={"invalid": "`stash_scene_id` must be a Stash scene id."},
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        scene = super().validate(attrs)
        if attrs.get("stash_scene_id"):  # named: what was sent besides is not looked at
            scene.update(
                sprite=None,
                vtt=None,
                frames=None,
                video=None,
                stash_scene_id=attrs["stash_scene_id"],
            )
        return scene


def stash_id_field(kind: str) -> serializers.CharField:
    """A Stash image or gallery id: a number (as text or a JSON number)."""
    message = f'`stash_{kind}_id` must be a Stash {kind} id, a number such as "42".'
    return serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=20,
        validators=[RegexValidator(SCENE_ID_PATTERN, message)],
        help_text=f"A {kind} of the configured Stash (STASH_URL); fetched from there.",
        error_messages={"invalid": message, "max_length": message},
    )


class StashIdentifyRequestSerializer(IdentifyRequestSerializer):
    """`POST /identify`, which also takes a `stash_image_id`: the picture fetched from Stash."""

    stash_image_id = stash_id_field("image")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("stash_image_id"):  # named: what was sent besides is not looked at
            return {
                "image": None,
                "stash_image_id": attrs["stash_image_id"],
                "top_k": attrs["top_k"],
                "threshold": attrs.get("threshold"),
            }
        return super().validate(attrs)


class IdentifyGalleryRequestSerializer(FirstErrorSerializer):
    """`POST /identify/gallery`: every image of a Stash gallery, as the frames of one scene."""

    default_error_messages = {"invalid": "The request body must be a JSON object."}

    stash_gallery_id = stash_id_field("gallery")
    max_images = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Identify only the gallery's first images (at most "
        "STASHSENSE_MAX_GALLERY_IMAGES); without it a larger gallery is refused.",
        error_messages={
            "invalid": "`max_images` must be an integer.",
            "min_value": "`max_images` must be at least 1.",
        },
    )
    known_performer_ids = KnownPerformersField()
    top_k = top_k_field()
    threshold = ThresholdField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("stash_gallery_id"):
            raise InvalidInput(
                "Send `stash_gallery_id`: a gallery of the configured Stash.", code="no_gallery"
            )
        return {**attrs, "threshold": attrs.get("threshold")}


class PersonImageSerializer(serializers.Serializer[PersonImage]):
    stash_image_id = serializers.CharField()
    box = FaceBoxSerializer(help_text="The face, in pixels of the image as Stash serves it.")


class GalleryPersonSerializer(IdentifiedPersonSerializer):
    images = PersonImageSerializer(many=True, help_text="The gallery images the person is in.")


class SkippedImageSerializer(serializers.Serializer[SkippedImage]):
    stash_image_id = serializers.CharField()
    reason = serializers.CharField()


class GalleryIdentificationSerializer(serializers.Serializer[GalleryIdentification]):
    """The body of `POST /identify/gallery`: persons across the gallery's images."""

    stash_gallery_id = serializers.CharField()
    gallery_images = serializers.IntegerField(help_text="Images the gallery holds in Stash.")
    images = serializers.IntegerField(help_text="Images identified (frames of the scene).")
    trimmed = serializers.BooleanField(help_text="Only the first images were identified.")
    faces = serializers.IntegerField()
    persons = GalleryPersonSerializer(many=True)
    skipped = SkippedImageSerializer(many=True, help_text="Images that could not be read.")
    profile = serializers.CharField()
    index_version = serializers.CharField()
    timings_ms = serializers.DictField(child=serializers.FloatField())


class SceneSuggestionRequestSerializer(FirstErrorSerializer):
    """`POST /scenes/<id>/suggestions`: identify the Stash scene now."""

    default_error_messages = {"invalid": "The request body must be a JSON object."}

    known_performer_ids = KnownPerformersField()
    top_k = top_k_field()
    threshold = ThresholdField()
    mode = serializers.ChoiceField(
        choices=["sprite", "video", "auto"],
        default="auto",
        help_text="sprite, video or auto (default: the sprite, then video frames from Stash's "
        "stream until everyone is settled; the sprite alone when the video cannot be read).",
        error_messages={"invalid_choice": "`mode` must be sprite, video or auto."},
    )
    frames = serializers.IntegerField(
        default=DEFAULT_FRAMES,
        min_value=MIN_FRAMES,
        max_value=MAX_FRAMES,
        source="frame_count",
        help_text="Video frames to read at most (5-240).",
        error_messages={
            "invalid": "`frames` must be a whole number from 5 to 240.",
            "min_value": "`frames` must be a whole number from 5 to 240.",
            "max_value": "`frames` must be a whole number from 5 to 240.",
        },
    )


class SceneSuggestionSerializer(serializers.Serializer[SceneSuggestion]):
    """A stored scene suggestion, its candidates' performers as they are now."""

    stash_scene_id = serializers.CharField()
    origin = serializers.ChoiceField(SuggestionOrigin.choices)
    scan_id = serializers.IntegerField(allow_null=True)
    created_at = IsoDateTimeField()
    updated_at = IsoDateTimeField()
    result = serializers.SerializerMethodField(
        help_text="The body of POST /api/v1/identify/scene, names and stash IDs as of now."
    )

    @extend_schema_field(SceneIdentificationSerializer)
    def get_result(self, suggestion: SceneSuggestion) -> dict[str, Any]:
        return _with_current_performers(
            suggestion.result, suggestion_performers(suggestion=suggestion)
        )


def _with_current_performers(
    result: dict[str, Any], performers: dict[str, Performer]
) -> dict[str, Any]:
    """The stored body with each candidate's performer block re-read; vanished ones left out."""
    current = {key: PerformerSummarySerializer(p).data for key, p in performers.items()}
    persons = [p for p in result.get("persons") or [] if isinstance(p, dict)]
    return {
        **result,
        "persons": [
            {
                **person,
                "matches": [
                    {**match, "performer": current[key]}
                    for match in person.get("matches") or []
                    if isinstance(match, dict)
                    and isinstance(match.get("performer"), dict)
                    and (key := str(match["performer"].get("id"))) in current
                ],
            }
            for person in persons
        ],
    }


# --- feedback --------------------------------------------------------------------------------


class FeedbackBoxSerializer(serializers.Serializer[dict[str, int]]):
    x = serializers.IntegerField(min_value=0)
    y = serializers.IntegerField(min_value=0)
    w = serializers.IntegerField(min_value=1)
    h = serializers.IntegerField(min_value=1)


class FeedbackFrameSerializer(serializers.Serializer[dict[str, Any]]):
    index = serializers.IntegerField(min_value=0, max_value=10_000)
    box = FeedbackBoxSerializer(required=False)


class FeedbackRequestSerializer(serializers.Serializer[dict[str, Any]]):
    """`POST /feedback`: the user confirmed or rejected a candidate for a person of a scene.

    The validated data are the feedback services' arguments (and the decision). Field errors
    are listed per field (DRF's form); then an unknown performer is NotFound and a thumbnail
    that is not base64 InvalidInput, in that order.
    """

    stash_scene_id = serializers.CharField(max_length=20, validators=[scene_id_validator])
    person = serializers.IntegerField(min_value=0, max_value=10_000)
    performer_id = serializers.UUIDField(help_text="Our performer id (from the candidates).")
    decision = serializers.ChoiceField(["confirm", "reject"])
    thumbnail = serializers.CharField(
        required=False, max_length=MAX_THUMBNAIL_CHARS, help_text="data:image/jpeg;base64,..."
    )
    frames = serializers.ListField(
        child=FeedbackFrameSerializer(),
        required=False,
        max_length=200,
        help_text="The person's frames as the identification returned them: {index, box}.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        performer = Performer.objects.filter(pk=attrs["performer_id"]).first()
        if performer is None:
            raise NotFound(
                f"No performer {attrs['performer_id']} (merged or deleted since?).",
                code="performer_not_found",
            )
        thumbnail = attrs.get("thumbnail")
        return {
            "decision": attrs["decision"],
            "stash_scene_id": attrs["stash_scene_id"],
            "person": attrs["person"],
            "performer": performer,
            "thumbnail": base64_bytes(thumbnail, "thumbnail") if thumbnail else None,
            "frames": [FrameRef(f["index"], f.get("box")) for f in attrs.get("frames") or []],
        }


class FeedbackResultSerializer(serializers.Serializer[FeedbackOutcome]):
    decision = serializers.CharField()
    face_added = serializers.BooleanField()
    face_id = serializers.IntegerField(allow_null=True)
    duplicate = serializers.BooleanField()
    review_item_id = serializers.IntegerField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()


# --- library scans ---------------------------------------------------------------------------


class SceneScanSerializer(serializers.ModelSerializer[SceneScan]):
    progress = RoundedFloatField(read_only=True)
    target = serializers.IntegerField(read_only=True)
    created_at = IsoDateTimeField(read_only=True)
    started_at = IsoDateTimeField(read_only=True, allow_null=True)
    heartbeat_at = IsoDateTimeField(read_only=True, allow_null=True)
    finished_at = IsoDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = SceneScan
        fields = [
            "id",
            "status",
            "options",
            "progress",
            "total",
            "target",
            "identified",
            "skipped",
            "skip_reasons",
            "errors",
            "persons",
            "pages",
            "cursor",
            "last_error",
            "worker",
            "created_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]
        read_only_fields = fields  # an answer only: every field is always there


class SceneScanListSerializer(serializers.Serializer[dict[str, Any]]):
    scans = SceneScanSerializer(many=True)
