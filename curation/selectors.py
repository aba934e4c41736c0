"""Reads for curation: galleries as vectors, the review queue, jobs and quality figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Floor
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from curation.choices import ReviewKind, ReviewStatus
from curation.face_distances import Vectors
from curation.models import PAIR_PREFIX, ReviewItem
from performers.models import Performer, Source, StashId
from performers.selectors import performer_list, performer_search
from recognition.choices import FaceStatus
from recognition.models import Face, IndexBuild
from recognition.selectors import active_index, calibration_summary
from scraping.models import SyncRun
from stash.models import SceneScan

GALLERY_LIMIT = 32
UNDECIDED_STATUSES = [ReviewStatus.OPEN, ReviewStatus.CLAIMED, ReviewStatus.SKIPPED]


def claim_timeout() -> timedelta:
    """How long a claim holds before another reviewer may take the item over."""
    return timedelta(minutes=getattr(settings, "CURATION_CLAIM_MINUTES", 15))


# --- galleries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PerformerFaceVectors:
    """A performer's active faces of one profile, best quality first."""

    face_ids: list[int]
    vectors: Vectors

    def __len__(self) -> int:
        return len(self.face_ids)


def performer_face_vectors(
    *,
    performer_id: Any,
    profile: str,
    limit: int = GALLERY_LIMIT,
) -> PerformerFaceVectors:
    faces = Face.objects.filter(
        performer_id=performer_id, profile=profile, status=FaceStatus.ACTIVE
    )
    rows = [
        (pk, bytes(blob))
        for pk, blob in faces.order_by("-quality", "pk").values_list("pk", "embedding")[:limit]
    ]
    if not rows:
        return PerformerFaceVectors([], np.zeros((0, 0), dtype=np.float32))
    dim = max(len(blob) for _, blob in rows) // 4
    usable = [(pk, blob) for pk, blob in rows if len(blob) == dim * 4]
    vectors = np.frombuffer(b"".join(blob for _, blob in usable), dtype=np.float32)
    return PerformerFaceVectors([pk for pk, _ in usable], vectors.reshape(len(usable), dim))


def face_performers(*, face_ids: list[int], profile: str) -> dict[int, Any]:
    """face id → performer id, for active faces of the profile only."""
    return dict(
        Face.objects.filter(pk__in=face_ids, profile=profile, status=FaceStatus.ACTIVE).values_list(
            "pk", "performer_id"
        )
    )


def performer_active_faces(*, performer: Performer, limit: int = 12) -> QuerySet[Face]:
    return Face.objects.filter(performer=performer, status=FaceStatus.ACTIVE).order_by(
        "-quality", "pk"
    )[:limit]


def performer_removed_face_count(*, performer: Performer) -> int:
    return Face.objects.filter(performer=performer).exclude(status=FaceStatus.ACTIVE).count()


def performer_with_links(*, performer_id: Any) -> Performer | None:
    return (
        Performer.objects.prefetch_related("stash_ids", "aliases", "urls")
        .filter(pk=performer_id)
        .first()
    )


# Past this many faces a gallery page shows the best ones and says how many it left out.
GALLERY_PAGE_LIMIT = 120


def performer_gallery(*, performer: Performer) -> QuerySet[Face]:
    """Every face of a performer, active first, then by quality: what the gallery page shows."""
    return (
        Face.objects.filter(performer=performer)
        .select_related("image__source")
        .defer("embedding", "crop", "landmarks", "quality_details")
        .order_by("status", "-quality", "pk")
    )


def best_faces_of(*, performer_ids: list[str]) -> dict[str, int]:
    """performer id → their best active face, for the ids that name a performer with one."""
    valid = []
    for key in performer_ids:
        try:
            valid.append(UUID(key))
        except ValueError:
            continue
    best: dict[str, int] = {}
    rows = (
        Face.objects.filter(performer_id__in=valid, status=FaceStatus.ACTIVE)
        .order_by("performer_id", "-quality", "pk")
        .distinct("performer_id")
        .values_list("performer_id", "pk")
    )
    for performer_id, face_id in rows:
        best[str(performer_id)] = face_id
    return best


def performers_found(*, query: str, limit: int = 50) -> QuerySet[Performer]:
    """Performers matching a search, with their active face count and best face."""
    active = Face.objects.filter(performer=OuterRef("pk"), status=FaceStatus.ACTIVE)
    counted = active.order_by().values("performer").annotate(count=Count("pk")).values("count")
    return performer_search(query=query).annotate(
        active_faces=Coalesce(Subquery(counted, output_field=IntegerField()), 0),
        best_face_id=Subquery(active.order_by("-quality", "pk").values("pk")[:1]),
    )[:limit]


# --- the review queue ----------------------------------------------------------------------


def _available_to(user: AbstractBaseUser, now: datetime) -> Q:
    """Items this user may claim or decide now: open, skipped, theirs, or claimed too long ago."""
    return (
        Q(status__in=[ReviewStatus.OPEN, ReviewStatus.SKIPPED])
        | Q(status=ReviewStatus.CLAIMED, claimed_by=user)
        | Q(status=ReviewStatus.CLAIMED, claimed_at__lt=now - claim_timeout())
    )


def available_to(*, user: AbstractBaseUser) -> Q:
    return _available_to(user, timezone.now())


def review_queue(
    *,
    kind: str = "",
    source: Source | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    statuses: list[str] | None = None,
) -> QuerySet[ReviewItem]:
    """Review items, most likely first. By default the undecided ones (open, claimed and
    skipped: skipping leaves the "next item" path, not the queue)."""
    items = ReviewItem.objects.select_related(
        "performer_a", "performer_b", "face__performer", "claimed_by", "decided_by"
    ).filter(status__in=statuses or UNDECIDED_STATUSES)
    if kind:
        items = items.filter(kind=kind)
    if source is not None:
        on_source = StashId.objects.filter(Q(source=source) | Q(endpoint=source.url)).values(
            "performer_id"
        )
        items = items.filter(
            Q(performer_a__in=on_source)
            | Q(performer_b__in=on_source)
            | Q(face__performer__in=on_source)
        )
    if min_score is not None:
        items = items.filter(score__gte=min_score)
    if max_score is not None:
        items = items.filter(score__lte=max_score)
    # A duplicate whose performer was merged away elsewhere has nothing left to decide.
    stale = Q(kind=ReviewKind.DUPLICATE) & (
        Q(performer_a__isnull=True) | Q(performer_b__isnull=True)
    )
    if set(statuses or UNDECIDED_STATUSES) <= set(UNDECIDED_STATUSES):
        items = items.exclude(stale)
    return items.order_by("-score", "pk")


def _best_face(performer_path: str) -> Subquery:
    best = Face.objects.filter(performer=OuterRef(performer_path), status=FaceStatus.ACTIVE)
    return Subquery(best.order_by("-quality", "pk").values("pk")[:1])


def review_queue_rows(*, items: QuerySet[ReviewItem]) -> QuerySet[ReviewItem]:
    """The queue with what a row shows: each side's best face (`face_a_id`, `face_b_id`) and
    stash IDs with their sources, in a fixed number of queries."""
    return items.annotate(
        face_a_id=_best_face("performer_a"), face_b_id=_best_face("performer_b")
    ).prefetch_related(
        Prefetch("performer_a__stash_ids", queryset=StashId.objects.select_related("source")),
        Prefetch("performer_b__stash_ids", queryset=StashId.objects.select_related("source")),
        Prefetch("face__performer__stash_ids", queryset=StashId.objects.select_related("source")),
    )


def review_item_held_by_other(*, item: ReviewItem, user: AbstractBaseUser) -> bool:
    """Someone else acted on the item lately and holds it (opening an item claims nothing)."""
    return (
        item.status == ReviewStatus.CLAIMED
        and item.claimed_by_id not in (None, user.pk)
        and item.claimed_at is not None
        and item.claimed_at >= timezone.now() - claim_timeout()
    )


def review_next_open(
    *, queue: QuerySet[ReviewItem], user: AbstractBaseUser, after: ReviewItem | None = None
) -> ReviewItem | None:
    """The first item of the queue this user can take now (skipped ones stay behind)."""
    items = queue.filter(available_to(user=user)).exclude(status=ReviewStatus.SKIPPED)
    if after is not None:
        items = items.exclude(pk=after.pk)
    return items.first()


def review_neighbours(
    *, queue: QuerySet[ReviewItem], item: ReviewItem
) -> tuple[ReviewItem | None, ReviewItem | None]:
    """The items just before and after `item` in queue order (score down, then id)."""
    before = (
        queue.filter(Q(score__gt=item.score) | Q(score=item.score, pk__lt=item.pk))
        .order_by("score", "-pk")
        .first()
    )
    after = (
        queue.filter(Q(score__lt=item.score) | Q(score=item.score, pk__gt=item.pk))
        .order_by("-score", "pk")
        .first()
    )
    return before, after


def review_counts_by_kind() -> dict[str, int]:
    """Undecided items per kind, every kind present."""
    counts = dict(
        review_queue()
        .order_by()
        .values_list("kind")
        .annotate(count=Count("pk"))
        .values_list("kind", "count")
    )
    return {kind: counts.get(kind, 0) for kind in ReviewKind.values}


def review_item_detail(*, pk: int) -> ReviewItem | None:
    return (
        ReviewItem.objects.select_related(
            "performer_a", "performer_b", "face__performer", "claimed_by", "decided_by"
        )
        .filter(pk=pk)
        .first()
    )


# --- jobs ----------------------------------------------------------------------------------


def recent_sync_runs(*, limit: int = 20) -> QuerySet[SyncRun]:
    return SyncRun.objects.select_related("source").order_by("-created_at")[:limit]


def recent_index_builds(*, limit: int = 10) -> QuerySet[IndexBuild]:
    return IndexBuild.objects.order_by("-started_at")[:limit]


def recent_scene_scans(*, limit: int = 10) -> QuerySet[SceneScan]:
    return SceneScan.objects.defer("log").order_by("-created_at")[:limit]


def job_sources() -> QuerySet[Source]:
    """The sources a sync can be started for from the jobs page."""
    return Source.objects.filter(enabled=True).order_by("name")


# --- quality -------------------------------------------------------------------------------


def histogram_counts(values: QuerySet[Any], field: str, *, bins: int = 10) -> list[int]:
    """Counts of `field` (0..1) in `bins` equal bins, computed by the database."""
    counts = [0] * bins
    rows = (
        values.order_by()
        .annotate(bucket=Floor(F(field) * bins))
        .values_list("bucket")
        .annotate(count=Count("pk"))
        .values_list("bucket", "count")
    )
    for bucket, count in rows:
        counts[min(bins - 1, max(0, int(bucket or 0)))] += count
    return counts


def review_score_histograms(*, bins: int = 10) -> dict[str, list[int]]:
    return {
        kind: histogram_counts(ReviewItem.objects.filter(kind=kind), "score", bins=bins)
        for kind in ReviewKind.values
    }


def face_quality_histogram(*, bins: int = 10) -> list[int]:
    return histogram_counts(Face.objects.filter(status=FaceStatus.ACTIVE), "quality", bins=bins)


FACE_BUCKET_WORDS = {"0": "no faces", "1": "1 face", "2-4": "2–4 faces", "5+": "5+ faces"}
_FACE_BUCKETS = {
    "0": Q(active_faces=0),
    "1": Q(active_faces=1),
    "2-4": Q(active_faces__gte=2, active_faces__lte=4),
    "5+": Q(active_faces__gte=5),
}


def _with_active_face_counts(performers: QuerySet[Performer]) -> QuerySet[Performer]:
    active_faces = (
        Face.objects.filter(performer=OuterRef("pk"), status=FaceStatus.ACTIVE)
        .order_by()
        .values("performer")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return performers.annotate(
        active_faces=Coalesce(Subquery(active_faces, output_field=IntegerField()), 0)
    )


def performers_in_face_bucket(*, bucket: str, limit: int = 100) -> QuerySet[Performer]:
    """The performers one bar of "performers by active faces" counts (e.g. one face: the list
    to enrich), with their best face."""
    best = Face.objects.filter(performer=OuterRef("pk"), status=FaceStatus.ACTIVE)
    performers = _with_active_face_counts(performer_list()).filter(_FACE_BUCKETS[bucket])
    return performers.annotate(
        best_face_id=Subquery(best.order_by("-quality", "pk").values("pk")[:1])
    ).order_by("name", "pk")[:limit]


def performers_by_face_count() -> dict[str, int]:
    """How many performers have 0, 1, 2-4 and 5+ active faces."""
    performers = _with_active_face_counts(Performer.objects.all())
    totals = performers.aggregate(
        none=Count("pk", filter=Q(active_faces=0)),
        one=Count("pk", filter=Q(active_faces=1)),
        few=Count("pk", filter=Q(active_faces__gte=2, active_faces__lte=4)),
        many=Count("pk", filter=Q(active_faces__gte=5)),
    )
    return {"0": totals["none"], "1": totals["one"], "2-4": totals["few"], "5+": totals["many"]}


# --- batch resolution ------------------------------------------------------------------------


def performers_to_resolve(*, source: Source | None = None) -> QuerySet[Performer, Any]:
    """Ids of the performers a batch resolution visits, oldest first (they become targets)."""
    performers = Performer.objects.all()
    if source is not None:
        on_source = StashId.objects.filter(Q(source=source) | Q(endpoint=source.url)).values(
            "performer_id"
        )
        performers = performers.filter(pk__in=on_source)
    return performers.order_by("created_at", "pk").values_list("pk", flat=True)


def duplicates_rejected_pairs() -> set[frozenset[str]]:
    """Performer id pairs a curator said are different people (rejected duplicate items)."""
    keys = ReviewItem.objects.filter(
        kind=ReviewKind.DUPLICATE, status=ReviewStatus.REJECTED
    ).values_list("subject_key", flat=True)
    pairs = set()
    for key in keys:
        if key.startswith(PAIR_PREFIX):
            parts = key[len(PAIR_PREFIX) :].split(":")
            if len(parts) == 2:
                pairs.add(frozenset(parts))
    return pairs


def faces_kept_by_curators(*, face_ids: list[int]) -> set[int]:
    """Faces among `face_ids` a curator kept (rejected suspicious-face items)."""
    return set(
        ReviewItem.objects.filter(
            kind=ReviewKind.SUSPICIOUS_FACE,
            status=ReviewStatus.REJECTED,
            face_id__in=face_ids,
        ).values_list("face_id", flat=True)
    )


def active_index_calibration() -> dict[str, Any] | None:
    """How the serving index decides to name someone: its threshold, FAR and when fitted."""
    build = active_index()
    summary = calibration_summary(build.calibration) if build is not None else None
    if summary is None:
        return None
    fitted = summary.get("fitted_at")

    def percent(value: Any) -> float | None:
        return round(100 * float(value), 2) if isinstance(value, int | float) else None

    return {
        **summary,
        "profile": build.profile if build is not None else None,
        "fitted_at": parse_datetime(fitted) if isinstance(fitted, str) else None,
        "far_percent": percent(summary.get("far")),
        "far_in_samples_percent": percent(summary.get("far_in_samples")),
        "target_percent": percent(summary.get("target_far")),
        "refit_percent": percent(settings.STASHSENSE_RECALIBRATE_GROWTH),
    }
