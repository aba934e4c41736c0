from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from performers.models import PERFORMER_FIELDS, Performer, StashId


class StashIdSerializer(serializers.ModelSerializer):
    class Meta:
        model = StashId
        fields = ["endpoint", "stash_id"]


class PerformerSummarySerializer(serializers.ModelSerializer):
    """The short form used inside identification results."""

    stash_ids = StashIdSerializer(many=True, read_only=True)

    class Meta:
        model = Performer
        fields = ["id", "name", "disambiguation", "stash_ids"]


class StashIdDetailSerializer(serializers.Serializer):
    """A stash ID with what its endpoint said last: deleted, or merged into another id."""

    endpoint = serializers.CharField()
    stash_id = serializers.CharField()
    deleted = serializers.BooleanField()
    merged_into = serializers.CharField(allow_null=True)


class PerformerDetailSerializer(serializers.ModelSerializer):
    stash_ids = serializers.SerializerMethodField()
    aliases: serializers.SlugRelatedField = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name"
    )
    urls: serializers.SlugRelatedField = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="url"
    )
    face_count = serializers.SerializerMethodField()

    class Meta:
        model = Performer
        fields = [
            "id",
            *PERFORMER_FIELDS,
            "aliases",
            "urls",
            "stash_ids",
            "face_count",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(StashIdDetailSerializer(many=True))
    def get_stash_ids(self, obj: Performer) -> list[dict[str, object]]:
        return [
            {
                "endpoint": s.endpoint,
                "stash_id": s.stash_id,
                "deleted": s.deleted,
                "merged_into": s.merged_into or None,
            }
            for s in obj.stash_ids.all()
        ]

    def get_face_count(self, obj: Performer) -> int:
        faces = getattr(obj, "faces", None)
        return faces.count() if faces is not None else 0


class MergeRequestSerializer(serializers.Serializer):
    sources = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=50)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class MergeResultSerializer(serializers.Serializer):
    merge_id = serializers.IntegerField()
    performer = PerformerDetailSerializer()
    notes = serializers.ListField(child=serializers.CharField())
