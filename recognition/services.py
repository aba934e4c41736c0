"""Every write on faces and indexes goes through here."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from performers.models import Performer, Source
from performers.services import performer_create
from recognition.choices import BuildStatus, FaceOrigin, FaceStatus
from recognition.configured_profile import profile_for, serving_profile
from recognition.engine.detector import primary_face_index
from recognition.engine.errors import ImageError
from recognition.engine.images import decode_image
from recognition.engine.types import AnalyzedFace
from recognition.enrollment import display_name
from recognition.gallery_calibration import index_self_calibration
from recognition.index import (
    ExactIndex,
    IndexParams,
    Metric,
    VectorIndex,
    build_from_batches,
    grown_up,
    load_index,
)
from recognition.models import Face, IndexBuild, SourceImage
from recognition.searchable_gallery import iter_face_vectors
from stashsense.errors import ApplicationError

logger = logging.getLogger(__name__)


@transaction.atomic
def face_remove(*, face: Face, actor: str = "system") -> Face:
    """Take a face out of its performer's gallery; identification stops using it at once."""
    updated = Face.objects.filter(pk=face.pk, status=FaceStatus.ACTIVE).update(
        status=FaceStatus.REMOVED, removed_at=timezone.now()
    )
    if updated:
        logger.info("Face %s removed by %s", face.pk, actor)
    face.refresh_from_db()
    return face


@transaction.atomic
def face_restore(*, face: Face, actor: str = "system") -> Face:
    """Put a removed face back into the gallery."""
    Face.objects.filter(pk=face.pk, status=FaceStatus.REMOVED).update(
        status=FaceStatus.ACTIVE, removed_at=None
    )
    logger.info("Face %s restored by %s", face.pk, actor)
    face.refresh_from_db()
    return face


def _index_path(profile: str, build_id: int) -> Path:
    directory = settings.INDEX_DIR / profile
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"build-{build_id}.index"


def index_build(
    *,
    profile: str | None = None,
    params: IndexParams | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IndexBuild:
    """Build the index of a profile from stored embeddings and make it the active one.

    Streams faces in batches; the file is written under a temporary name and renamed, and the
    row that names the active build switches in one transaction, so a crash at any point
    leaves the previous index serving.
    """
    name = profile or serving_profile()
    params = params or IndexParams()
    _abandoned_builds_clear(name)
    faces = Face.objects.filter(profile=name, status=FaceStatus.ACTIVE)
    total = faces.count()
    max_face_id = faces.order_by("-pk").values_list("pk", flat=True).first() or 0
    previous = IndexBuild.objects.filter(profile=name, active=True).first()
    build = IndexBuild.objects.create(
        profile=name,
        path="",
        params=asdict(params),
        calibration=previous.calibration if previous else {},
    )
    build.path = str(_index_path(name, build.pk))
    build.save(update_fields=["path"])
    sample = faces.values_list("embedding", flat=True).first()
    dim = len(bytes(sample)) // 4 if sample is not None else _profile_dim(name)

    def report(done: int) -> None:
        IndexBuild.objects.filter(pk=build.pk).update(progress=done / total if total else 1.0)
        if progress is not None:
            progress(done, total)

    try:
        batches = _bounded(iter_face_vectors(profile=name), max_face_id)
        stats = build_from_batches(
            build.path, dim, _profile_metric(name), batches, params=params, progress=report
        )
    except Exception as error:
        IndexBuild.objects.filter(pk=build.pk).update(
            status=BuildStatus.FAILED, error=str(error)[:2000]
        )
        logger.exception("Index build %s failed", build.pk)
        raise
    calibration = _self_calibration(
        build.path, name, max_face_id, fallback=build.calibration, faces=stats.vectors
    )
    with transaction.atomic():
        IndexBuild.objects.filter(profile=name, active=True).update(active=False)
        IndexBuild.objects.filter(pk=build.pk).update(
            calibration=calibration,
            status=BuildStatus.DONE,
            active=True,
            faces=stats.vectors,
            performers=faces.filter(pk__lte=max_face_id).values("performer").distinct().count(),
            max_face_id=max_face_id,
            progress=1.0,
            built_at=timezone.now(),
            params={
                **asdict(params),
                "requested_kind": params.kind,
                "kind": stats.kind,
                "dim": dim,
                "seconds": round(stats.seconds, 3),
            },
        )
    _remove_old_index_files(name)
    build.refresh_from_db()
    logger.info(
        "Index build %s: %d faces in %.1f s (%s)",
        build.pk,
        stats.vectors,
        stats.seconds,
        stats.kind,
    )
    return build


def _self_calibration(
    path: str | Path,
    profile: str,
    max_face_id: int,
    *,
    fallback: dict[str, Any],
    faces: int,
    index: VectorIndex | None = None,
) -> dict[str, Any]:
    """The index's calibration fitted on its own faces; a labelled calibration (`calibrate`)
    is kept as it is, and a failed fit keeps what the index had (it is advice, not the build)."""
    if (fallback.get("stats") or {}).get("source") == "labelled" or faces == 0:
        return fallback
    try:
        return index_self_calibration(
            index=index if index is not None else load_index(path),
            profile=profile,
            metric=_profile_metric(profile),
            max_face_id=max_face_id,
        )
    except Exception:
        logger.exception(
            "Self-calibration of the %s index failed; keeping the previous one", profile
        )
        return fallback


def _needs_recalibration(calibration: dict[str, Any], faces: int) -> bool:
    stats = calibration.get("stats") or {}
    if stats.get("source") == "labelled":
        return False
    if stats.get("source") != "gallery":
        return True
    fitted_on = int(stats.get("faces") or 0)
    return faces >= fitted_on * (1 + settings.STASHSENSE_RECALIBRATE_GROWTH)


def _bounded(
    batches: Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]], max_face_id: int
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]:
    """Stop at the face that was newest when the build started; later ones join as a delta."""
    for labels, vectors in batches:
        keep = labels <= max_face_id
        if keep.any():
            yield labels[keep], vectors[keep]
        if not keep.all():
            return


def _abandoned_builds_clear(profile: str) -> None:
    """Builds killed mid-write (a crash, SIGKILL) left a RUNNING row and a temporary file.

    There is one index writer per profile, so when a new build starts no other one is alive.
    """
    IndexBuild.objects.filter(profile=profile, status=BuildStatus.RUNNING).update(
        status=BuildStatus.FAILED, error="abandoned: the process building it stopped"
    )
    directory = settings.INDEX_DIR / profile
    if directory.is_dir():
        for leftover in directory.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)


def _remove_old_index_files(profile: str, keep: int = 2) -> None:
    stale = IndexBuild.objects.filter(profile=profile, active=False).order_by("-started_at")[keep:]
    for build in stale:
        Path(build.path).unlink(missing_ok=True)


def _profile_metric(profile: str) -> Metric:
    return profile_for(profile).metric


def _profile_dim(profile: str) -> int:
    return profile_for(profile).dim


@transaction.atomic
def index_calibration_set(*, profile: str, calibration: dict[str, Any]) -> IndexBuild:
    """Store a fitted calibration with the active index of a profile."""
    build = IndexBuild.objects.select_for_update().filter(profile=profile, active=True).first()
    if build is None:
        raise ApplicationError(
            f"No active index for profile {profile!r}: run build_index first.", code="no_index"
        )
    build.calibration = calibration
    build.save(update_fields=["calibration"])
    return build


# --- gallery photos -----------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoOutcome:
    """What adding one gallery photo did."""

    image: SourceImage | None
    faces: list[Face]
    duplicate: bool = False
    skipped_reason: str = ""


def _primary_face(analyzed: list[AnalyzedFace], width: int, height: int) -> AnalyzedFace | None:
    index = primary_face_index([face.detection for face in analyzed], width, height)
    return analyzed[index] if index is not None else None


def face_create(
    *,
    performer: Performer,
    analyzed: AnalyzedFace,
    profile: str,
    origin: str,
    image: SourceImage | None = None,
) -> Face:
    quality = analyzed.quality
    return Face.objects.create(
        performer=performer,
        image=image,
        profile=profile,
        origin=origin,
        box=analyzed.detection.box_xywh(),
        landmarks=[list(point) for point in analyzed.detection.landmarks],
        det_score=analyzed.detection.score,
        quality=quality.overall,
        quality_passed=quality.passed,
        quality_details=quality.as_dict(),
        embedding=np.asarray(analyzed.embedding, dtype=np.float32).tobytes(),
        crop=analyzed.crop_jpeg,
    )


def gallery_photo_add(
    *,
    performer: Performer,
    data: bytes,
    url: str = "",
    origin: str = FaceOrigin.ENROLL,
    source: Source | None = None,
    profile: str | None = None,
) -> PhotoOutcome:
    """Detect the performer's face in a photo and add it to their gallery.

    The photo is checked by content (decoded, size and pixel limits), de-duplicated by its
    sha256 per performer, and only its primary face (large and central) is kept: gallery
    photos are portraits, and other people in them are not the performer. Faces that fail
    the quality gates are not stored.
    """
    digest = hashlib.sha256(data).hexdigest()
    existing = SourceImage.objects.filter(performer=performer, sha256=digest).first()
    if existing is not None:
        return PhotoOutcome(image=existing, faces=[], duplicate=True)
    try:
        image = decode_image(data, max_pixels=settings.STASHSENSE_MAX_IMAGE_PIXELS)
    except ImageError as error:
        return PhotoOutcome(image=None, faces=[], skipped_reason=str(error))
    engine = profile_for(profile)
    height, width = image.shape[:2]
    primary = _primary_face(engine.analyze(image), width, height)
    kept = primary if primary is not None and primary.quality.passed else None
    try:
        with transaction.atomic():
            row = SourceImage.objects.create(
                performer=performer,
                sha256=digest,
                url=url[:1000],
                source=source,
                width=width,
                height=height,
                face_count=1 if kept is not None else 0,
            )
            faces = []
            if kept is not None:
                faces.append(
                    face_create(
                        performer=performer,
                        analyzed=kept,
                        profile=engine.name,
                        origin=origin,
                        image=row,
                    )
                )
    except IntegrityError:  # another worker stored the same photo meanwhile
        existing = SourceImage.objects.filter(performer=performer, sha256=digest).first()
        if existing is None:
            raise
        return PhotoOutcome(image=existing, faces=[], duplicate=True)
    if primary is None:
        return PhotoOutcome(image=row, faces=[], skipped_reason="no face found")
    if kept is None:
        return PhotoOutcome(
            image=row,
            faces=[],
            skipped_reason="face below quality gates: " + ", ".join(primary.quality.reasons),
        )
    return PhotoOutcome(image=row, faces=faces)


def index_ensure(*, profile: str | None = None) -> IndexBuild:
    """The profile's active index, built from the faces stored so far (maybe none) if it has
    none yet. A sync calls this before its photo work: identification and identity
    resolution then search the index plus the faces added since, instead of scanning the
    database for every performer."""
    name = profile or serving_profile()
    build = IndexBuild.objects.filter(profile=name, active=True).first()
    return build if build is not None else index_build(profile=name)


def _has_faces(profile: str) -> bool:
    return Face.objects.filter(profile=profile, status=FaceStatus.ACTIVE).exists()


def index_update(*, profile: str | None = None) -> IndexBuild | None:
    """Bring the active index file up to date without a rebuild (the one index writer).

    Appends faces added since the build, drops faces removed since, then writes the file
    atomically and records the new high-water mark. Servers pick the new file up by itself;
    until then they add the same faces from the database on their own. A profile with faces
    but no index yet (a first sync, an enrolment) gets its first build here.
    """
    name = profile or serving_profile()
    build = IndexBuild.objects.filter(profile=name, active=True).first()
    if build is None:
        return index_build(profile=name) if _has_faces(name) else None
    index = load_index(build.path)
    added, max_face_id = 0, build.max_face_id
    for labels, vectors in iter_face_vectors(profile=name, after_id=build.max_face_id):
        index.add(labels, vectors)
        added += len(labels)
        max_face_id = int(labels[-1])
    removed_ids = list(
        Face.objects.filter(profile=name, pk__lte=build.max_face_id)
        .exclude(status=FaceStatus.ACTIVE)
        .filter(removed_at__gte=build.built_at or build.started_at)
        .values_list("pk", flat=True)
    )
    removed = index.remove(np.asarray(removed_ids, dtype=np.int64)) if removed_ids else 0
    if not added and not removed:
        return build
    # Grown as asked for: the stored `kind` is the kind the build became.
    stored = build.params or {}
    asked = IndexParams.from_stored({**stored, "kind": stored.get("requested_kind", "auto")})
    index = grown_up(index, asked)
    index.save(build.path)
    calibration = build.calibration
    if _needs_recalibration(calibration, len(index)):
        calibration = _self_calibration(
            build.path, name, max_face_id, fallback=calibration, faces=len(index), index=index
        )
    IndexBuild.objects.filter(pk=build.pk).update(
        calibration=calibration,
        faces=len(index),
        max_face_id=max_face_id,
        performers=Face.objects.filter(profile=name, status=FaceStatus.ACTIVE)
        .values("performer")
        .distinct()
        .count(),
        built_at=timezone.now(),
        params={**build.params, "kind": "exact" if isinstance(index, ExactIndex) else "hnsw"},
    )
    logger.info("Index %s updated: %d added, %d removed", build.pk, added, removed)
    build.refresh_from_db()
    return build


def performer_enroll(
    *, identity: str, photos: list[Path], profile: str | None = None
) -> tuple[Performer, list[PhotoOutcome]]:
    """A performer named after a labelled folder, with the faces of its photos (idempotent)."""
    name = display_name(identity)
    performer = Performer.objects.filter(name=name).order_by(
        "created_at"
    ).first() or performer_create(name=name)
    outcomes = [
        gallery_photo_add(
            performer=performer,
            data=path.read_bytes(),
            url=str(path),
            origin=FaceOrigin.ENROLL,
            profile=profile,
        )
        for path in photos
    ]
    return performer, outcomes
