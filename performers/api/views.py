from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performers.api.serializers import (
    MergeRequestSerializer,
    MergeResultSerializer,
    PerformerDetailSerializer,
)
from performers.models import Performer
from performers.selectors import performer_list, performer_search
from performers.services import performer_merge
from stashsense.errors import ApplicationError, NotFound
from stashsense.pagination import BoundedLimitOffsetPagination


class PerformerListView(generics.ListAPIView):
    serializer_class = PerformerDetailSerializer
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Name, alias, stash ID or profile URL.")]
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Performer]:
        query = self.request.query_params.get("q", "")
        if len(query) > 500:
            raise ApplicationError(
                "The query is too long (500 characters at most).", code="query_too_long"
            )
        if "\x00" in query:  # PostgreSQL cannot compare text with a NUL character
            raise ApplicationError("The query contains a NUL character.", code="invalid")
        return performer_search(query=query).order_by("name", "id")


class PerformerDetailView(generics.RetrieveAPIView):
    serializer_class = PerformerDetailSerializer
    queryset = performer_list()
    lookup_field = "pk"


class PerformerMergeView(APIView):
    @extend_schema(request=MergeRequestSerializer, responses={200: MergeResultSerializer})
    def post(self, request: Request, pk: str) -> Response:
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        target = Performer.objects.filter(pk=pk).first()
        if target is None:
            raise NotFound(f"Performer {pk} not found.", code="not_found")
        source_ids = body.validated_data["sources"]
        sources = list(Performer.objects.filter(pk__in=source_ids))
        missing = sorted(str(k) for k in set(source_ids) - {s.pk for s in sources})
        if missing:
            raise NotFound(f"Performers not found: {', '.join(missing)}.", code="not_found")
        record = performer_merge(
            sources=sources,
            target=target,
            actor=f"api:{request.user.name}",  # type: ignore[union-attr]
            reason=body.validated_data["reason"],
        )
        result = {
            "merge_id": record.pk,
            "performer": performer_list().get(pk=target.pk),
            "notes": record.notes,
        }
        return Response(MergeResultSerializer(result).data, status=status.HTTP_200_OK)
