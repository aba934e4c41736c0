"""Every write of curation: resolving identities, the review queue and its decisions."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from curation.choices import ReviewKind, ReviewStatus
from curation.face_distances import distance_to_rest, outlier_score, thresholds_for
from curation.models import ReviewItem
from curation.resolution.decisions import (
    Decision,
    SourceHosts,
    compatible_merges,
    find_decisions,
    pair_key,
)
from curation.resolution.face_search import FaceSearch, face_search_for
from curation.selectors import available_to, performer_face_vectors
from performers.models import MergeRecord, Performer
from performers.services import performer_merge
from recognition.choices import FaceStatus
from recognition.configured_profile import serving_profile
from recognition.models import Face
from recognition.services import face_remove
from recognition.tasks import index_build as index_build_task
from stashsense.errors import ApplicationError, Conflict

logger = logging.getLogger(__name__)

RESOLVER = "resolver"
# A strong link may chain (A links B, B links C): follow it this many merges deep per call.
MAX_MERGE_ROUNDS = 3
# Below this many other faces a gallery cannot say which face is the odd one out.
OUTLIER_MIN_GALLERY = 3
# A face is compared with at most this many others (the performer's best by quality).
OUTLIER_COMPARE = 64
_UNDECIDED = [ReviewStatus.OPEN, ReviewStatus.CLAIMED, ReviewStatus.SKIPPED]


# --- identity resolution -------------------------------------------------------------------


@dataclass
class ResolutionOutcome:
    """What resolving one performer did (or, in a dry run, would do)."""

    performer_id: Any
    dry_run: bool = False
    merged: list[Decision] = field(default_factory=list)
    suggested: list[Decision] = field(default_factory=list)
    review_items: list[ReviewItem] = field(default_factory=list)
    merge_records: list[MergeRecord] = field(default_factory=list)

    @property
    def decisions(self) -> list[Decision]:
        return [*self.merged, *self.suggested]


def identity_resolve_performer(
    *,
    performer: Performer,
    dry_run: bool = False,
    profile: str | None = None,
    search: FaceSearch | None = None,
    hosts: SourceHosts | None = None,
) -> ResolutionOutcome:
    """Link `performer` to the identities it is the same person as; call after every upsert.

    Strong evidence merges (actor "resolver"), weaker evidence opens a review item. Not one
    transaction: each merge and each item is atomic on its own, so a long face comparison
    never holds locks, and a concurrent merge of the same pair is simply skipped.
    """
    profile = profile or serving_profile()
    thresholds = thresholds_for(profile)
    search = (
        search if search is not None else face_search_for(profile=profile, metric=thresholds.metric)
    )
    hosts = hosts or SourceHosts.load()
    outcome = ResolutionOutcome(performer_id=performer.pk, dry_run=dry_run)
    current = performer
    for merge_round in range(MAX_MERGE_ROUNDS + 1):
        decisions = find_decisions(
            performer=current, profile=profile, thresholds=thresholds, search=search, hosts=hosts
        )
        merges = compatible_merges(current, [d for d in decisions if d.action == "merge"])
        if dry_run:
            outcome.merged = merges
        if dry_run or not merges or merge_round == MAX_MERGE_ROUNDS:
            break
        merged = _merge(current, merges)
        if merged is None:
            return outcome
        current, record = merged
        outcome.merged += merges
        outcome.merge_records.append(record)
        outcome.performer_id = current.pk
    outcome.suggested = [d for d in decisions if d.action == "review"]
    if not dry_run:
        for decision in outcome.suggested:
            item = review_item_create_duplicate(
                performer_a=decision.performer,
                performer_b=decision.other,
                evidence=decision.evidence_json(),
                score=decision.score,
            )
            if item is not None:
                outcome.review_items.append(item)
    return outcome


def _merge(
    performer: Performer, merges: Sequence[Decision]
) -> tuple[Performer, MergeRecord] | None:
    """Merge everyone into the oldest identity, whose id is the one clients already know."""
    everyone = sorted(
        [performer, *(d.other for d in merges)], key=lambda p: (p.created_at, str(p.pk))
    )
    target, sources = everyone[0], everyone[1:]
    reason = "; ".join(
        f"{d.other.name}: {d.strongest.label}: {d.strongest.summary}" for d in merges
    )
    try:
        record = performer_merge(sources=sources, target=target, actor=RESOLVER, reason=reason)
    except ApplicationError as error:
        # Another worker merged one of them a moment ago; its own resolution covers the rest.
        logger.info("Resolution of %s skipped a merge: %s", performer.pk, error.message)
        return None
    target.refresh_from_db()
    return target, record


# --- creating review items -----------------------------------------------------------------


def _oldest_first(first: Performer, second: Performer) -> tuple[Performer, Performer]:
    return (
        (first, second)
        if (first.created_at, str(first.pk)) <= (second.created_at, str(second.pk))
        else (second, first)
    )


@transaction.atomic
def review_item_create_duplicate(
    *,
    performer_a: Performer,
    performer_b: Performer,
    evidence: Sequence[Mapping[str, Any]],
    score: float,
) -> ReviewItem | None:
    """Ask whether two performers are one person; None when the pair was already decided.

    An undecided item for the same pair is refreshed with the new evidence instead.
    """
    if performer_a.pk == performer_b.pk:
        raise ApplicationError("A performer cannot duplicate itself.", code="review_same_performer")
    first, second = _oldest_first(performer_a, performer_b)
    headline = evidence[0]["summary"] if evidence else "possible duplicate"
    fields = {
        "performer_a": first,
        "performer_b": second,
        "evidence": list(evidence),
        "score": score,
        "summary": f"{first} ↔ {second}: {headline}"[:500],
    }
    item, created = ReviewItem.objects.get_or_create(
        subject_key=pair_key(first.pk, second.pk),
        defaults={"kind": ReviewKind.DUPLICATE, **fields},
    )
    if created:
        logger.info("Review item %s: %s", item.pk, item.summary)
        return item
    if item.is_decided:
        return None
    ReviewItem.objects.filter(pk=item.pk, status__in=_UNDECIDED).update(
        updated_at=timezone.now(), **fields
    )
    item.refresh_from_db()
    return item


@transaction.atomic
def review_item_create_suspicious_face(
    *, face: Face, score: float, evidence: Sequence[Mapping[str, Any]]
) -> ReviewItem | None:
    """Ask whether a face belongs to its performer; None once that was decided."""
    item, created = ReviewItem.objects.get_or_create(
        subject_key=f"face:{face.pk}",
        defaults={
            "kind": ReviewKind.SUSPICIOUS_FACE,
            "face": face,
            "score": score,
            "evidence": list(evidence),
            "summary": f"Face {face.pk} of {face.performer}"[:500],
        },
    )
    if item.is_decided:
        return None
    if created:
        return item
    ReviewItem.objects.filter(pk=item.pk, status__in=_UNDECIDED).update(
        score=score, evidence=list(evidence), updated_at=timezone.now()
    )
    item.refresh_from_db()
    return item


def face_check_outlier(*, face: Face) -> ReviewItem | None:
    """Flag `face` when it sits far from the rest of its performer's gallery (call it after
    adding a face); a face a curator kept is never flagged again."""
    return faces_check_outliers(faces=[face])[0]


def faces_check_outliers(*, faces: Sequence[Face]) -> list[ReviewItem | None]:
    """`face_check_outlier` for several faces, each performer's gallery read once."""
    found: list[ReviewItem | None] = [None] * len(faces)
    groups: dict[tuple[Any, str], list[int]] = {}
    for position, face in enumerate(faces):
        if face.status == FaceStatus.ACTIVE:
            groups.setdefault((face.performer_id, face.profile), []).append(position)
    for (performer_id, profile), positions in groups.items():
        # The best OUTLIER_COMPARE + 1 faces hold the best OUTLIER_COMPARE others of any face.
        gallery = performer_face_vectors(
            performer_id=performer_id, profile=profile, limit=OUTLIER_COMPARE + 1
        )
        for position in positions:
            face = faces[position]
            rest = [row for row, pk in enumerate(gallery.face_ids) if pk != face.pk]
            found[position] = _check_outlier(face, gallery.vectors[rest[:OUTLIER_COMPARE]])
    return found


def _check_outlier(face: Face, rest: np.ndarray) -> ReviewItem | None:
    thresholds = thresholds_for(face.profile)
    vector = face.vector()
    if len(rest) < OUTLIER_MIN_GALLERY or rest.shape[1] != vector.shape[0]:
        return None
    distance = distance_to_rest(vector, rest, thresholds.metric)
    if distance is None or distance < thresholds.outlier_min:
        return None
    evidence = {
        "kind": "outlier",
        "label": "Unlike the rest of the gallery",
        "summary": f"median distance {distance:.2f} to the performer's {len(rest)} other faces",
        "details": {
            "distance": round(distance, 4),
            "metric": thresholds.metric,
            "compared_with": len(rest),
            "profile": face.profile,
        },
    }
    return review_item_create_suspicious_face(
        face=face, score=round(outlier_score(distance, thresholds), 4), evidence=[evidence]
    )


def performer_check_outliers(
    *, performer: Performer, profile: str | None = None
) -> list[ReviewItem]:
    """Run the suspicious-face check over a performer's whole gallery."""
    faces = Face.objects.filter(
        performer=performer,
        status=FaceStatus.ACTIVE,
        profile=profile or serving_profile(),
    )
    return [item for item in faces_check_outliers(faces=list(faces)) if item is not None]


def _low_confidence_key(payload: Mapping[str, Any]) -> str | None:
    scene, person = payload.get("scene_id"), payload.get("person")
    if scene in (None, "") or person in (None, ""):
        return None
    return f"scene:{scene}:person:{person}"[:200]


@transaction.atomic
def review_item_create_low_confidence(*, payload: Mapping[str, Any], score: float) -> ReviewItem:
    """Queue an identification the plugin was unsure of.

    `payload`: {"scene_id", "person" (index in the scene), "thumbnail" (data URI),
    "candidates": [{"performer_id", "name", "score", "confidence", "distance"}], ...}. The
    same scene and person replace the previous payload while undecided.
    """
    candidates = payload.get("candidates", [])
    if not isinstance(candidates, list) or not all(isinstance(c, Mapping) for c in candidates):
        raise ApplicationError("candidates must be a list of objects.", code="invalid")
    if not 0.0 <= score <= 1.0:
        raise ApplicationError("score must be between 0 and 1.", code="invalid")
    names = ", ".join(str(c.get("name", "?")) for c in candidates[:3]) or "no candidate"
    fields = {
        "payload": dict(payload),
        "score": score,
        "summary": f"Scene {payload.get('scene_id', '?')}: {names}"[:500],
    }
    key = _low_confidence_key(payload)
    if key is None:
        return ReviewItem.objects.create(kind=ReviewKind.LOW_CONFIDENCE, **fields)
    item, created = ReviewItem.objects.get_or_create(
        subject_key=key, defaults={"kind": ReviewKind.LOW_CONFIDENCE, **fields}
    )
    if not created and not item.is_decided:
        ReviewItem.objects.filter(pk=item.pk, status__in=_UNDECIDED).update(
            updated_at=timezone.now(), **fields
        )
        item.refresh_from_db()
    return item


# --- jobs ----------------------------------------------------------------------------------


def index_build_enqueue(*, profile: str | None = None) -> None:
    """Ask a worker to build the index afresh (the jobs page's button); once the
    surrounding transaction commits, as every enqueue."""
    transaction.on_commit(partial(index_build_task.delay, profile))


# --- galleries -----------------------------------------------------------------------------


@transaction.atomic
def gallery_face_move(*, face: Face, performer: Performer, actor: str) -> Face:
    """Give a face to another performer's gallery (it was someone else's). The vector index
    maps labels to faces and faces to performers, so identification follows at once."""
    if face.performer_id == performer.pk:
        raise ApplicationError("The face is already in that gallery.", code="face_same_performer")
    previous = face.performer_id
    Face.objects.filter(pk=face.pk).update(performer=performer)
    face.refresh_from_db()
    logger.info("Face %s moved from %s to %s by %s", face.pk, previous, performer.pk, actor)
    return face


# --- claiming and deciding -----------------------------------------------------------------


@transaction.atomic
def review_item_claim(*, item: ReviewItem, user: AbstractBaseUser) -> bool:
    """Take an item for review; False when someone else holds a fresh claim or it is decided.

    One conditional UPDATE: of two reviewers claiming at once exactly one gets the row.
    """
    now = timezone.now()
    claimed = (
        ReviewItem.objects.filter(pk=item.pk)
        .filter(available_to(user=user))
        .update(status=ReviewStatus.CLAIMED, claimed_by=user, claimed_at=now, updated_at=now)
    )
    item.refresh_from_db()
    return claimed == 1


def _take_for_decision(item: ReviewItem, user: AbstractBaseUser, status: str) -> ReviewItem:
    """Move the item to `status` if this user may decide it; the row stays locked until the
    surrounding transaction ends, so a second reviewer waits and then finds it decided."""
    now = timezone.now()
    taken = (
        ReviewItem.objects.filter(pk=item.pk)
        .filter(available_to(user=user))
        .update(status=status, decided_by=user, decided_at=now, updated_at=now)
    )
    item.refresh_from_db()
    if taken == 1:
        return item
    if item.is_decided:
        by = item.decided_by.get_username() if item.decided_by else "someone"
        raise Conflict(
            f"This item was already {item.status} by {by}.",
            code="review_item_decided",
        )
    by = item.claimed_by.get_username() if item.claimed_by else "someone"
    raise Conflict(f"{by} is reviewing this item.", code="review_item_claimed")


@transaction.atomic
def review_item_accept(
    *,
    item: ReviewItem,
    user: AbstractBaseUser,
    keep: Performer | None = None,
    candidate_id: str | None = None,
) -> ReviewItem:
    """Apply what the item suggests: merge the pair (into `keep`, by default the older one),
    remove the suspicious face, or record which candidate the unsure identification is."""
    item = _take_for_decision(item, user, ReviewStatus.ACCEPTED)
    if item.kind == ReviewKind.DUPLICATE:
        _accept_duplicate(item, user, keep)
    elif item.kind == ReviewKind.SUSPICIOUS_FACE:
        if item.face is None:
            raise Conflict("The face no longer exists.", code="review_item_stale")
        face_remove(face=item.face, actor=user.get_username())
        item.resolution = {"face": "removed"}
    else:
        item.resolution = _chosen_candidate(item, candidate_id)
    item.save(update_fields=["resolution", "merge_record"])
    return item


def _accept_duplicate(item: ReviewItem, user: AbstractBaseUser, keep: Performer | None) -> None:
    first, second = item.performer_a, item.performer_b
    if first is None or second is None:
        raise Conflict(
            "One of the two performers no longer exists (merged elsewhere); reject or skip this item.",
            code="review_item_stale",
        )
    target = second if keep is not None and keep.pk == second.pk else first
    source = second if target is first else first
    record = performer_merge(
        sources=[source],
        target=target,
        actor=user,
        reason=f"Review item #{item.pk}: {item.summary}",
    )
    item.merge_record = record
    item.resolution = {
        "kept": str(target.pk),
        "merged": [str(source.pk)],
        "merge_record": record.pk,
    }


def _chosen_candidate(item: ReviewItem, candidate_id: str | None) -> dict[str, Any]:
    candidates = item.payload.get("candidates", [])
    if candidate_id is None:
        return {"candidate": None}
    for candidate in candidates:
        if str(candidate.get("performer_id")) == str(candidate_id):
            return {"candidate": str(candidate_id), "name": candidate.get("name", "")}
    # Someone else: the curator searched the gallery and named the person themselves.
    try:
        named = Performer.objects.filter(pk=UUID(str(candidate_id))).first()
    except ValueError:
        named = None
    if named is None:
        raise ApplicationError(
            "That performer is neither a candidate nor in the gallery.", code="invalid"
        )
    return {"candidate": str(named.pk), "name": named.name, "picked": "search"}


@transaction.atomic
def review_item_reject(*, item: ReviewItem, user: AbstractBaseUser) -> ReviewItem:
    """Say no: the pair are different people (never suggested again), the face stays (and is
    not flagged again), or none of the candidates is the person."""
    item = _take_for_decision(item, user, ReviewStatus.REJECTED)
    if item.kind == ReviewKind.SUSPICIOUS_FACE:
        item.resolution = {"face": "kept"}
    elif item.kind == ReviewKind.LOW_CONFIDENCE:
        item.resolution = {"candidate": None}
    else:
        item.resolution = {"different_people": True}
    item.save(update_fields=["resolution"])
    return item


@transaction.atomic
def review_item_skip(*, item: ReviewItem, user: AbstractBaseUser) -> ReviewItem:
    """Put the item aside undecided, releasing the claim; it leaves the "next item" path."""
    item = _take_for_decision(item, user, ReviewStatus.SKIPPED)
    ReviewItem.objects.filter(pk=item.pk).update(claimed_by=None, claimed_at=None)
    item.refresh_from_db()
    return item


@dataclass
class BulkOutcome:
    """What one bulk action did: how many items it decided and why the others were left."""

    decided: int = 0
    errors: list[str] = field(default_factory=list)


def review_items_decide(
    *, items: Sequence[ReviewItem], user: AbstractBaseUser, decision: str
) -> BulkOutcome:
    """Accept or reject many items, each in its own transaction (one failure spoils no other).

    Accepting a low-confidence item in bulk takes its best candidate; one with no candidate
    is left for a curator to name.
    """
    outcome = BulkOutcome()
    for item in items:
        try:
            if decision == "reject":
                review_item_reject(item=item, user=user)
            else:
                review_item_accept(item=item, user=user, candidate_id=_best_candidate(item))
        except ApplicationError as error:
            outcome.errors.append(f"#{item.pk}: {error.message}")
        else:
            outcome.decided += 1
    return outcome


def _best_candidate(item: ReviewItem) -> str | None:
    if item.kind != ReviewKind.LOW_CONFIDENCE:
        return None
    candidates = item.payload.get("candidates") or []
    if not candidates or candidates[0].get("performer_id") in (None, ""):
        raise ApplicationError("no candidate to accept; name the person on its page.")
    return str(candidates[0]["performer_id"])
