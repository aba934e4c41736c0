"""The identify endpoints' bodies: what they take (requests) and what they answer (results)."""

from __future__ import annotations

import base64
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from performers.api.serializers import PerformerSummarySerializer
from recognition.api.fields import (
    Base64Field,
    FramesField,
    ImageUrlField,
    KnownPerformersField,
    RoundedFloatField,
    TextOrFileField,
    ThresholdField,
    UploadField,
    VideoUploadField,
    image_from_url,
    top_k_field,
)
from recognition.identification import (
    FaceCandidate,
    IdentifiedFace,
    IdentifiedPerson,
    ImageIdentification,
    PersonCandidate,
    PersonFrame,
    SceneIdentification,
)
from recognition.video import DEFAULT_FRAMES
from stashsense.errors import InvalidInput
from stashsense.serializers import FirstErrorSerializer

# --- requests ----------------------------------------------------------------------------------


def _first_sent(attrs: dict[str, Any], *names: str) -> Any:
    """The value of the first of these fields that was sent (an upload before its base64)."""
    return next((attrs[name] for name in names if attrs.get(name) is not None), None)


class IdentifyRequestSerializer(FirstErrorSerializer):
    """`POST /identify`: one image, as a multipart `image`, `image_base64` or `image_url`."""

    top_k = top_k_field()
    threshold = ThresholdField()
    image = UploadField(help_text="The image (multipart).")
    image_base64 = Base64Field(help_text="The image as base64 or a data: URL (JSON).")
    image_url = ImageUrlField(help_text="An image on an allow-listed host (STASH_URL's).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The image's bytes, whichever way they came (fetched when named by URL)."""
        image = _first_sent(attrs, "image", "image_base64")
        if image is None and attrs.get("image_url") is not None:
            image = image_from_url(attrs["image_url"])
        if image is None:
            raise InvalidInput(
                "Send an image: multipart `image`, `image_base64` or `image_url`.",
                code="no_image",
            )
        return {"image": image, "top_k": attrs["top_k"], "threshold": attrs.get("threshold")}


class IdentifySceneRequestSerializer(FirstErrorSerializer):
    """`POST /identify/scene`: a sprite sheet + its VTT, a list of frames, or one image.

    The validated data are identify_scene's arguments.
    """

    top_k = top_k_field()
    threshold = ThresholdField()
    known_performer_ids = KnownPerformersField()
    sprite = UploadField(help_text="Stash's sprite sheet (multipart).")
    sprite_base64 = Base64Field(help_text="The sprite sheet as base64 (JSON).")
    vtt = TextOrFileField(help_text="The sprite's VTT: text, or a file (multipart).")
    frames = FramesField(help_text="Frames as base64 images, or a count of video frames.")
    image = UploadField(help_text="A single frame (multipart).")
    image_base64 = Base64Field(help_text="A single frame as base64.")
    video = VideoUploadField(
        help_text="The scene's video (multipart; STASHSENSE_MAX_VIDEO_BYTES at most)."
    )
    mode = serializers.ChoiceField(
        choices=["sprite", "video", "auto"],
        required=False,
        allow_null=True,
        help_text="sprite: Stash's preview only; video: frames read from the video; auto "
        "(default with a video): the sprite, then video frames until everyone is settled.",
        error_messages={"invalid_choice": "`mode` must be sprite, video or auto."},
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A sprite wins over frames, frames over a single image (identify_scene says when
        nothing was sent); a video goes with a sprite (auto) or alone."""
        sprite = _first_sent(attrs, "sprite", "sprite_base64")
        frames = attrs.get("frames")
        count = frames if isinstance(frames, int) else DEFAULT_FRAMES
        frames = frames if isinstance(frames, list) else None
        single = _first_sent(attrs, "image", "image_base64")
        if sprite is None and not frames and single is not None:
            frames = [single]
        return {
            "sprite": sprite,
            "vtt": attrs.get("vtt") if sprite is not None else None,
            "frames": frames if sprite is None else None,
            "video": attrs.get("video"),
            "mode": attrs.get("mode"),
            "frame_count": count,
            "known_performer_ids": attrs["known_performer_ids"],
            "top_k": attrs["top_k"],
            "threshold": attrs.get("threshold"),
        }


# --- results -----------------------------------------------------------------------------------


class FaceBoxSerializer(serializers.Serializer[dict[str, int]]):
    """A face's box in pixels of the image (or frame) it was found in."""

    x = serializers.IntegerField()
    y = serializers.IntegerField()
    w = serializers.IntegerField()
    h = serializers.IntegerField()


class FaceCandidateSerializer(serializers.Serializer[FaceCandidate]):
    performer = PerformerSummarySerializer()
    score = RoundedFloatField(help_text="Similarity (1 - distance); not a probability.")
    confidence = RoundedFloatField(help_text="Calibrated probability that this is the person.")
    distance = RoundedFloatField()


class IdentifiedFaceSerializer(serializers.Serializer[IdentifiedFace]):
    box = FaceBoxSerializer()
    det_score = RoundedFloatField()
    quality = RoundedFloatField()
    quality_passed = serializers.BooleanField()
    quality_reasons = serializers.ListField(child=serializers.CharField())
    matches = FaceCandidateSerializer(many=True)


class ImageIdentificationSerializer(serializers.Serializer[ImageIdentification]):
    """The body of `POST /identify` (and of `manage.py identify --json`)."""

    faces = IdentifiedFaceSerializer(many=True)
    profile = serializers.CharField()
    index_version = serializers.CharField(help_text="profile:build:last face id")
    timings_ms = serializers.DictField(child=serializers.FloatField())


class PersonCandidateSerializer(serializers.Serializer[PersonCandidate]):
    performer = PerformerSummarySerializer()
    score = RoundedFloatField()
    confidence = RoundedFloatField()
    votes = serializers.IntegerField(help_text="The person's faces that ranked it first.")


class PersonFrameSerializer(serializers.Serializer[PersonFrame]):
    index = serializers.IntegerField()
    start = serializers.FloatField(allow_null=True, help_text="Seconds into the scene.")
    box = FaceBoxSerializer()


@extend_schema_field(OpenApiTypes.STR)
class JpegDataUrlField(serializers.Field[bytes, str, str, Any]):
    """JPEG bytes as a `data:image/jpeg;base64,` URL (an <img> shows it as it is)."""

    def to_representation(self, value: bytes) -> str:
        return "data:image/jpeg;base64," + base64.b64encode(value).decode()


class TimeRangeSerializer(serializers.Serializer[tuple[float, float]]):
    """A stretch of the scene, in seconds."""

    start = serializers.FloatField()
    end = serializers.FloatField()

    def to_representation(self, instance: tuple[float, float]) -> dict[str, float]:
        return {"start": instance[0], "end": instance[1]}


class IdentifiedPersonSerializer(serializers.Serializer[IdentifiedPerson]):
    person = serializers.IntegerField(help_text="The person's number; feedback names it.")
    appearances = serializers.IntegerField(help_text="Frames the person is seen in.")
    time_ranges = TimeRangeSerializer(
        many=True, help_text="Where in the scene the person is seen (frames' real times)."
    )
    frames = PersonFrameSerializer(many=True)
    thumbnail = JpegDataUrlField(source="thumbnail_jpeg", help_text="The person's best face.")
    matches = PersonCandidateSerializer(many=True)


class SceneIdentificationSerializer(serializers.Serializer[SceneIdentification]):
    """The body of `POST /identify/scene`, and what a stored scene suggestion holds."""

    frames = serializers.IntegerField(help_text="Frames searched: sprite tiles, video frames...")
    faces = serializers.IntegerField()
    mode = serializers.CharField(help_text="What ran: sprite, video, auto or frames.")
    video_frames = serializers.IntegerField(help_text="Of `frames`, those read from the video.")
    duration = serializers.FloatField(allow_null=True, help_text="The video's length (s).")
    persons = IdentifiedPersonSerializer(many=True)
    profile = serializers.CharField()
    index_version = serializers.CharField()
    timings_ms = serializers.DictField(child=serializers.FloatField())
