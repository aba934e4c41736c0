from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performers.api.serializers import (
    MergeRequestSerializer,
    MergeResultSerializer,
    PerformerDetailSerializer,
    PerformerSearchSerializer,
)
from performers.models import Performer
from performers.selectors import performer_list, performer_search
from performers.services import performer_merge_by_keys
from stashsense.pagination import BoundedLimitOffsetPagination


class PerformerListView(generics.ListAPIView):
    serializer_class = PerformerDetailSerializer
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(parameters=[PerformerSearchSerializer])
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Performer]:
        search = PerformerSearchSerializer(data=self.request.query_params)
        search.is_valid(raise_exception=True)
        return performer_search(query=search.validated_data["q"]).order_by("name", "id")


class PerformerDetailView(generics.RetrieveAPIView):
    serializer_class = PerformerDetailSerializer
    queryset = performer_list()
    lookup_field = "pk"


class PerformerMergeView(APIView):
    @extend_schema(request=MergeRequestSerializer, responses={200: MergeResultSerializer})
    def post(self, request: Request, pk: UUID) -> Response:
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = performer_merge_by_keys(
            target_key=pk,
            source_keys=body.validated_data["sources"],
            actor=f"api:{request.user.name}",  # type: ignore[union-attr]
            reason=body.validated_data["reason"],
        )
        return Response(MergeResultSerializer(record).data)
