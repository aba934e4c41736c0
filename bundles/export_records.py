"""Rows of the identity graph and the gallery as bundle records (plain JSON-able dicts).

Timestamps of our own rows (created/updated) are not part of a record: they say when a row was
written here, not anything about the performer, and they would make every export look changed.
A face's embedding and crop never change once written (a new embedding is a new face), so
they travel in the binary members and stay out of its record and its digest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from performers.models import (
    PERFORMER_FIELDS,
    BodyModification,
    Performer,
    PerformerAlias,
    PerformerUrl,
    StashId,
)
from recognition.choices import FaceStatus
from recognition.models import Face

FACE_FIELDS = (
    "origin",
    "box",
    "landmarks",
    "det_score",
    "quality",
    "quality_passed",
    "quality_details",
)
IMAGE_FIELDS = ("sha256", "url", "width", "height", "face_count")
_FACE_VALUES = (
    "pk",
    "performer_id",
    *FACE_FIELDS,
    *(f"image__{name}" for name in IMAGE_FIELDS),
    "image__source_id",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _children(ids: list[UUID]) -> dict[str, dict[UUID, list[Any]]]:
    """What a batch of performers owns, grouped by performer, straight from the rows."""
    grouped: dict[str, dict[UUID, list[Any]]] = {
        "stash_ids": defaultdict(list),
        "aliases": defaultdict(list),
        "urls": defaultdict(list),
        "body_modifications": defaultdict(list),
    }
    for owner, *row in StashId.objects.filter(performer_id__in=ids).values_list(
        "performer_id",
        "endpoint",
        "stash_id",
        "source_id",
        "upstream_updated_at",
        "deleted",
        "merged_into",
    ):
        grouped["stash_ids"][owner].append(row)
    for owner, name in PerformerAlias.objects.filter(performer_id__in=ids).values_list(
        "performer_id", "name"
    ):
        grouped["aliases"][owner].append(name)
    for owner, *row in PerformerUrl.objects.filter(performer_id__in=ids).values_list(
        "performer_id", "url", "site", "site_id"
    ):
        grouped["urls"][owner].append(row)
    for owner, *row in BodyModification.objects.filter(performer_id__in=ids).values_list(
        "performer_id", "kind", "location", "description"
    ):
        grouped["body_modifications"][owner].append(row)
    return grouped


def _performer_record(
    row: dict[str, Any], owned: dict[str, dict[UUID, list[Any]]], source_urls: Mapping[int, str]
) -> dict[str, Any]:
    """A performer with everything it owns in the graph; lists sorted so digests are stable."""
    pk = row["pk"]
    stash_ids = [
        {
            "endpoint": endpoint,
            "stash_id": stash_id,
            "source": source_urls.get(source_id) if source_id else None,
            "upstream_updated_at": _iso(updated),
            "deleted": deleted,
            "merged_into": merged_into,
        }
        for endpoint, stash_id, source_id, updated, deleted, merged_into in owned["stash_ids"][pk]
    ]
    return {
        "id": str(pk),
        **{name: row[name] for name in PERFORMER_FIELDS},
        "stash_ids": sorted(stash_ids, key=lambda s: (s["endpoint"], s["stash_id"])),
        "aliases": sorted(owned["aliases"][pk]),
        "urls": sorted(
            (
                {"url": url, "site": site, "site_id": site_id}
                for url, site, site_id in owned["urls"][pk]
            ),
            key=lambda u: u["url"],
        ),
        "body_modifications": sorted(
            (
                {"kind": kind, "location": location, "description": description}
                for kind, location, description in owned["body_modifications"][pk]
            ),
            key=lambda m: (m["kind"], m["location"], m["description"]),
        ),
    }


def performer_record_batches(
    source_urls: Mapping[int, str], *, batch_size: int = 1000
) -> Iterator[list[dict[str, Any]]]:
    """Every performer as its bundle record, in id order, keyset-paged `batch_size` at a time."""
    last: UUID | None = None
    performers = Performer.objects.order_by("pk")
    while True:
        page = performers.filter(pk__gt=last) if last is not None else performers
        rows = list(page.values("pk", *PERFORMER_FIELDS)[:batch_size])
        if not rows:
            return
        owned = _children([row["pk"] for row in rows])
        yield [_performer_record(row, owned, source_urls) for row in rows]
        last = rows[-1]["pk"]


def face_record(row: Mapping[str, Any], source_urls: Mapping[int, str]) -> dict[str, Any]:
    """A face's metadata from a `face_rows` row (no embedding, no crop)."""
    image = None
    if row["image__sha256"] is not None:
        image = {name: row[f"image__{name}"] for name in IMAGE_FIELDS}
        source_id = row["image__source_id"]
        image["source"] = source_urls.get(source_id) if source_id else None
    return {
        "id": row["pk"],
        "performer": str(row["performer_id"]),
        **{name: row[name] for name in FACE_FIELDS},
        "image": image,
    }


def active_faces(profile: str) -> QuerySet[Face]:
    return Face.objects.filter(profile=profile, status=FaceStatus.ACTIVE)


def face_row_batches(profile: str, *, batch_size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Metadata of a profile's active faces in id order, keyset-paged (no blobs)."""
    last = 0
    while True:
        rows = list(
            active_faces(profile)
            .filter(pk__gt=last)
            .order_by("pk")
            .values(*_FACE_VALUES)[:batch_size]
        )
        if not rows:
            return
        yield rows
        last = rows[-1]["pk"]


def face_blobs(ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
    """Embedding and crop bytes of the given faces."""
    return {
        pk: (bytes(embedding), bytes(crop))
        for pk, embedding, crop in Face.objects.filter(pk__in=ids).values_list(
            "pk", "embedding", "crop"
        )
    }
