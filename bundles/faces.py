"""Applying a bundle's faces: a batch at a time, inside the import's one transaction.

A face keeps its bundle id as its own when that id is free here, so a fresh gallery can use
the bundle's index as it is; otherwise it gets a new id and the index is adjusted to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import connection

from bundles.choices import BundleEntryKind
from bundles.context import ImportContext, int_of, uuid_of
from bundles.export_records import FACE_FIELDS
from bundles.format import corrupt
from bundles.models import BundleEntry
from bundles.reader import FaceRow
from performers.models import Performer
from recognition.choices import FaceOrigin, FaceStatus
from recognition.models import Face, SourceImage

FACE = BundleEntryKind.FACE.value
_UPDATED_FIELDS = ["performer", "image", *(f for f in FACE_FIELDS if f != "origin")]
_UPDATED_ATTRIBUTES = ["performer_id", "image_id", *_UPDATED_FIELDS[2:]]


@dataclass
class _Plan:
    """What a batch of faces will do: create, update, replace; and each key's local face."""

    fresh: list[tuple[str, Face]] = field(default_factory=list)
    changed: list[Face] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    face_of: dict[str, int | None] = field(default_factory=dict)


def faces_apply(rows: list[FaceRow], context: ImportContext) -> None:
    """Create or update a batch of faces (never their status: removals here stand)."""
    keys = [str(int_of(row.record.get("id"), "face id")) for row in rows]
    if len(set(keys)) != len(keys):
        raise corrupt("faces.jsonl lists a face twice")
    identities = [
        context.decisions.identity(str(uuid_of(row.record.get("performer"), "face performer")))
        for row in rows
    ]
    entries = {
        entry.key: entry.face_id
        for entry in BundleEntry.objects.filter(kind=FACE, profile=context.profile, key__in=keys)
    }
    local = Face.objects.defer("crop").in_bulk([pk for pk in entries.values() if pk is not None])
    present = {
        str(pk)
        for pk in Performer.objects.filter(pk__in=[UUID(i) for i in set(identities)]).values_list(
            "pk", flat=True
        )
    }
    images = _images_ensure(rows, identities, present, context)
    plan = _Plan()
    for key, identity, row in zip(keys, identities, rows, strict=True):
        if identity not in present:
            context.counts["faces_skipped"] += 1
            context.faces_identical = False
        elif key in entries and entries[key] is None:
            context.counts["faces_deleted_here"] += 1
            context.faces_identical = False
            plan.face_of[key] = None
        else:
            face_id = entries.get(key)
            face = local.get(face_id) if face_id is not None else None
            image_id = images.get((identity, _image_sha(row.record)))
            _face_plan(plan, key, face, row, identity, image_id, context)
    Face.objects.filter(pk__in=plan.replaced).delete()
    _faces_create(plan, context)
    Face.objects.bulk_update(plan.changed, _UPDATED_FIELDS)
    context.counts["faces_updated"] += len(plan.changed)
    _entries_save(plan, context)


def _face_plan(
    plan: _Plan,
    key: str,
    face: Face | None,
    row: FaceRow,
    identity: str,
    image_id: int | None,
    context: ImportContext,
) -> None:
    if face is not None and bytes(face.embedding) != row.embedding:
        plan.replaced.append(face.pk)  # another face under a known key: start it afresh
        face = None
    if face is None:
        plan.fresh.append((key, _face_row(row, identity, image_id, context.profile)))
        return
    plan.face_of[key] = face.pk
    if context.decisions.kept_apart(str(face.performer_id), identity):
        identity = str(face.performer_id)
        context.counts["faces_kept_apart"] += 1
    before = _face_values(face)
    _face_fields_set(face, row.record, identity, image_id)
    if _face_values(face) != before:
        plan.changed.append(face)
    if face.pk == int(key):
        context.same_id_faces.append(face.pk)
    if face.pk != int(key) or face.status != FaceStatus.ACTIVE:
        context.faces_identical = False


def _face_values(face: Face) -> list[Any]:
    return [getattr(face, name) for name in _UPDATED_ATTRIBUTES]


def _image_sha(record: dict[str, Any]) -> str | None:
    image = record.get("image")
    return str(image.get("sha256")) if isinstance(image, dict) and image.get("sha256") else None


def _face_fields_set(
    face: Face, record: dict[str, Any], identity: str, image_id: int | None
) -> None:
    face.performer_id = UUID(identity)
    face.image_id = image_id
    for name in FACE_FIELDS:
        if name != "origin" and name in record:
            setattr(face, name, record[name])


def _face_row(row: FaceRow, identity: str, image_id: int | None, profile: str) -> Face:
    face = Face(
        profile=profile,
        origin=FaceOrigin.BUNDLE,
        status=FaceStatus.ACTIVE,
        embedding=row.embedding,
        crop=row.crop,
    )
    _face_fields_set(face, row.record, identity, image_id)
    return face


def _faces_create(plan: _Plan, context: ImportContext) -> None:
    """Insert new faces, under their bundle id where it is free here."""
    wanted = [int(key) for key, _ in plan.fresh]
    taken = set(Face.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    kept_ids = [pk for pk in wanted if pk not in taken]
    # Before any insert: the faces given new ids below, and every other writer, must draw
    # ids past the bundle ids kept here, or PostgreSQL's sequence hands one out again.
    face_ids_reserve(max(kept_ids, default=0))
    for key, face in plan.fresh:
        if int(key) not in taken:
            face.pk = int(key)
            context.same_id_faces.append(face.pk)
        else:
            context.faces_identical = False
    Face.objects.bulk_create([face for _, face in plan.fresh])
    for key, face in plan.fresh:
        plan.face_of[key] = face.pk
        context.created_face_ids.append(face.pk)
    context.counts["faces_created"] += len(plan.fresh)


def face_ids_reserve(highest: int) -> None:
    """Move the face id sequence to at least `highest`, never back (PostgreSQL).

    `setval` takes effect at once for every connection, outside the import's transaction, so
    no concurrent insert can draw a reserved id. SQLite's AUTOINCREMENT follows explicit ids
    by itself.
    """
    if highest <= 0 or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(seq, %s) FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq)"
            " AS face_sequence WHERE %s > COALESCE(pg_sequence_last_value(seq), 0)",
            [highest, Face._meta.db_table, highest],
        )


def _entries_save(plan: _Plan, context: ImportContext) -> None:
    BundleEntry.objects.bulk_create(
        [
            BundleEntry(
                kind=FACE,
                profile=context.profile,
                key=key,
                face_id=face_id,
                seen_in=context.seen_in,
            )
            for key, face_id in plan.face_of.items()
        ],
        update_conflicts=True,
        unique_fields=["kind", "profile", "key"],
        update_fields=["face", "seen_in"],
    )


def _images_ensure(
    rows: list[FaceRow], identities: list[str], present: set[str], context: ImportContext
) -> dict[tuple[str, str | None], int]:
    """The source images the faces came from, per (performer, sha256), created if missing."""
    wanted: dict[tuple[str, str], SourceImage] = {}
    for row, identity in zip(rows, identities, strict=True):
        sha = _image_sha(row.record)
        if sha is None or identity not in present:
            continue
        image = row.record["image"]
        try:
            wanted[(identity, sha)] = SourceImage(
                performer_id=UUID(identity),
                sha256=sha[:64],
                url=str(image.get("url") or "")[:1000],
                width=int(image.get("width") or 0),
                height=int(image.get("height") or 0),
                face_count=int(image.get("face_count") or 0),
                source_id=context.source_ids.get(str(image.get("source") or "")),
            )
        except (TypeError, ValueError) as error:
            raise corrupt(f"face {row.record.get('id')} has an unreadable image") from error
    if not wanted:
        return {}
    SourceImage.objects.bulk_create(list(wanted.values()), ignore_conflicts=True)
    found = SourceImage.objects.filter(
        performer_id__in={UUID(identity) for identity, _ in wanted},
        sha256__in={sha for _, sha in wanted},
    ).values_list("pk", "performer_id", "sha256")
    return {(str(performer), sha): pk for pk, performer, sha in found}


# --- deletions -----------------------------------------------------------------------------


def faces_forget(keys: list[str], context: ImportContext) -> None:
    """The bundle no longer has these faces: delete them, unless a curator kept them here."""
    entries = list(BundleEntry.objects.filter(kind=FACE, profile=context.profile, key__in=keys))
    face_ids = [entry.face_id for entry in entries if entry.face_id is not None]
    kept = context.decisions.kept_faces(face_ids)
    doomed = [pk for pk in face_ids if pk not in kept]
    Face.objects.filter(pk__in=doomed).delete()
    BundleEntry.objects.filter(pk__in=[entry.pk for entry in entries]).delete()
    context.counts["faces_deleted"] += len(doomed)
    context.counts["faces_kept"] += len(kept)


def faces_absent_forget(context: ImportContext, batch_size: int = 1000) -> None:
    """After a full import: forget the faces earlier bundles had and this one has not."""
    while True:
        keys = list(
            BundleEntry.objects.filter(kind=FACE, profile=context.profile)
            .exclude(seen_in=context.seen_in)
            .order_by("pk")
            .values_list("key", flat=True)[:batch_size]
        )
        if not keys:
            return
        faces_forget(keys, context)
