from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from performers.models import PERFORMER_FIELDS, MergeRecord, Performer, StashId
from performers.selectors import performer_list
from stashsense.errors import InvalidInput
from stashsense.serializers import FirstErrorSerializer

MAX_QUERY_CHARS = 500


class StashIdSerializer(serializers.ModelSerializer):
    class Meta:
        model = StashId
        fields = ["endpoint", "stash_id"]


class PerformerSummarySerializer(serializers.ModelSerializer):
    """The short form inside identification results (and the scene suggestions they became)."""

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


@extend_schema_field({"type": "string", "maxLength": MAX_QUERY_CHARS})
class SearchQueryField(serializers.Field[str, str, str, Any]):
    """Free text to search for, as it was typed (not trimmed)."""

    def to_internal_value(self, data: Any) -> str:
        query = str(data)
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidInput(
                f"The query is too long ({MAX_QUERY_CHARS} characters at most).",
                code="query_too_long",
            )
        if "\x00" in query:  # PostgreSQL cannot compare text with a NUL character
            raise InvalidInput("The query contains a NUL character.", code="invalid")
        return query


class PerformerSearchSerializer(FirstErrorSerializer):
    """The query of `GET /performers/` (paging aside)."""

    q = SearchQueryField(
        required=False, default="", help_text="Name, alias, stash ID or profile URL."
    )


class MergeRequestSerializer(serializers.Serializer[dict[str, Any]]):
    sources = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=50)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class MergeResultSerializer(serializers.Serializer[MergeRecord]):
    """A merge done: its record's id, the surviving performer as it is now, what was noted."""

    merge_id = serializers.IntegerField(source="pk")
    performer = serializers.SerializerMethodField()
    notes = serializers.ListField(child=serializers.CharField())

    @extend_schema_field(PerformerDetailSerializer)
    def get_performer(self, record: MergeRecord) -> dict[str, Any]:
        return dict(PerformerDetailSerializer(performer_list().get(pk=record.target_key)).data)
