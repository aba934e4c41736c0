"""Writes that keep review items true when performers are merged or unmerged elsewhere (the
admin, the API, the resolver): an item names performers, and a merge deletes its sources.

Each item that changes remembers how it was in `payload["followed_merges"]` (one entry per
merge record), so undoing the merge puts it back exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from curation.choices import ReviewKind, ReviewStatus
from curation.models import PAIR_PREFIX, ReviewItem
from curation.resolution.decisions import pair_key
from curation.selectors import UNDECIDED_STATUSES
from performers.models import MergeRecord, Performer

logger = logging.getLogger(__name__)
FOLLOWED = "followed_merges"


def _pair(item: ReviewItem) -> list[str]:
    key = item.subject_key
    return key[len(PAIR_PREFIX) :].split(":") if key.startswith(PAIR_PREFIX) else []


def _naming(keys: Sequence[str]) -> Q:
    return Q(kind=ReviewKind.DUPLICATE) & Q(
        *[Q(subject_key__contains=key) for key in keys], _connector=Q.OR
    )


@transaction.atomic
def review_items_follow_merge(
    *, record: MergeRecord, target: Performer, source_keys: Sequence[str]
) -> list[ReviewItem]:
    """Undecided duplicate items that name a merged-away performer now name the target; one
    that asked about this very pair is answered (accepted by the merge) and released."""
    sources = {str(key) for key in source_keys}
    if not sources:
        return []
    changed = []
    items = ReviewItem.objects.select_for_update().filter(
        _naming(sorted(sources)), status__in=UNDECIDED_STATUSES
    )
    for item in items:
        pair = _pair(item)
        if not sources & set(pair):
            continue
        _remember(item, record)
        others = [key for key in pair if key not in sources and key != str(target.pk)]
        if (
            not others
            or ReviewItem.objects.filter(subject_key=pair_key(target.pk, others[0])).exists()
        ):
            _answer_by_merge(item, record, target)
        else:
            _repoint(item, target, others[0])
        changed.append(item)
    changed += _candidates_follow_merge(record, target, sources)
    logger.info("Merge %s: %d review item(s) followed it", record.pk, len(changed))
    return changed


_NAMED_IN_PAYLOAD = ("candidates", "rejected_performer_id", "confirmed_performer_id")


def _candidates_follow_merge(
    record: MergeRecord, target: Performer, sources: set[str]
) -> list[ReviewItem]:
    """Undecided low-confidence items whose candidates name a merged-away performer name the
    target instead (once, even when both were candidates)."""
    naming = Q(
        *[Q(payload__candidates__contains=[{"performer_id": key}]) for key in sorted(sources)],
        _connector=Q.OR,
    )
    items = ReviewItem.objects.select_for_update().filter(
        naming, kind=ReviewKind.LOW_CONFIDENCE, status__in=UNDECIDED_STATUSES
    )
    changed = []
    for item in items:
        _remember(item, record)
        payload = dict(item.payload)
        renamed, seen = [], set()
        for candidate in payload.get("candidates") or []:
            key = str(candidate.get("performer_id"))
            if key in sources:
                candidate = {**candidate, "performer_id": str(target.pk), "name": target.name}
            if candidate["performer_id"] not in seen:
                seen.add(candidate["performer_id"])
                renamed.append(candidate)
        payload["candidates"] = renamed
        for field in ("rejected_performer_id", "confirmed_performer_id"):
            if str(payload.get(field)) in sources:
                payload[field] = str(target.pk)
        item.payload = payload
        item.save(update_fields=["payload", "updated_at"])
        changed.append(item)
    return changed


def _remember(item: ReviewItem, record: MergeRecord) -> None:
    entry = {
        "record": record.pk,
        "status": item.status,
        "subject_key": item.subject_key,
        "summary": item.summary,
        "performer_a": str(item.performer_a_id) if item.performer_a_id else _pair_side(item, 0),
        "performer_b": str(item.performer_b_id) if item.performer_b_id else _pair_side(item, 1),
        "payload": {key: item.payload[key] for key in _NAMED_IN_PAYLOAD if key in item.payload},
    }
    item.payload = {**item.payload, FOLLOWED: [*item.payload.get(FOLLOWED, []), entry]}


def _pair_side(item: ReviewItem, index: int) -> str | None:
    """A side whose FK is already NULL (merged before): the pair key still names it."""
    pair = _pair(item)
    known = {str(item.performer_a_id), str(item.performer_b_id)}
    missing = [key for key in pair if key not in known]
    return missing[0] if missing and len(pair) == 2 and index < 2 else None


def _answer_by_merge(item: ReviewItem, record: MergeRecord, target: Performer) -> None:
    item.status = ReviewStatus.ACCEPTED
    item.decided_by = record.actor
    item.decided_at = timezone.now()
    item.merge_record = record
    item.resolution = {"merged_elsewhere": True, "kept": str(target.pk), "merge_record": record.pk}
    item.claimed_by, item.claimed_at = None, None
    item.performer_a = target if item.performer_a_id is None else item.performer_a
    item.performer_b = target if item.performer_b_id is None else item.performer_b
    if item.performer_a_id == item.performer_b_id:
        item.performer_b = None
    item.save()


def _repoint(item: ReviewItem, target: Performer, other_key: str) -> None:
    other = Performer.objects.filter(pk=other_key).first()
    item.performer_a, item.performer_b = target, other
    item.subject_key = pair_key(target.pk, other_key)
    headline = item.summary.partition(": ")[2] or "possible duplicate"
    item.summary = f"{target} ↔ {other or other_key}: {headline}"[:500]
    if item.status == ReviewStatus.CLAIMED:
        item.status, item.claimed_by, item.claimed_at = ReviewStatus.OPEN, None, None
    item.save()


@transaction.atomic
def review_items_follow_unmerge(
    *, record: MergeRecord, restored: Sequence[Performer]
) -> list[ReviewItem]:
    """Undo what following `record` did; an item the dashboard accepted with this merge goes
    back to the queue (its answer was undone) with both performers named again."""
    changed = []
    followed = ReviewItem.objects.select_for_update().filter(
        Q(payload__followed_merges__contains=[{"record": record.pk}]) | Q(merge_record=record)
    )
    for item in followed:
        entries = item.payload.get(FOLLOWED, [])
        entry = next((e for e in reversed(entries) if e.get("record") == record.pk), None)
        if entry is not None:
            _restore(item, entry)
            item.payload = {**item.payload, FOLLOWED: [e for e in entries if e is not entry]}
        else:
            _reopen_with_pair(item)
        item.save()
        changed.append(item)
    logger.info("Undo of merge %s: %d review item(s) restored", record.pk, len(changed))
    return changed


def _restore(item: ReviewItem, entry: dict[str, Any]) -> None:
    item.payload = {**item.payload, **entry.get("payload", {})}
    if not ReviewItem.objects.filter(subject_key=entry["subject_key"]).exclude(pk=item.pk).exists():
        item.subject_key = entry["subject_key"]
    item.summary = entry["summary"]
    item.performer_a = (
        Performer.objects.filter(pk=entry["performer_a"]).first() if entry["performer_a"] else None
    )
    item.performer_b = (
        Performer.objects.filter(pk=entry["performer_b"]).first() if entry["performer_b"] else None
    )
    status = entry["status"]
    item.status = ReviewStatus.OPEN if status == ReviewStatus.CLAIMED else status
    item.claimed_by, item.claimed_at = None, None
    if item.merge_record_id is not None and item.resolution.get("merged_elsewhere"):
        item.merge_record, item.resolution = None, {}
        item.decided_by, item.decided_at = None, None


def _reopen_with_pair(item: ReviewItem) -> None:
    pair = _pair(item)
    performers = {str(p.pk): p for p in Performer.objects.filter(pk__in=pair)}
    known = [str(key) for key in (item.performer_a_id, item.performer_b_id) if key]
    missing = [performers[key] for key in pair if key in performers and key not in known]
    if item.performer_a_id is None and missing:
        item.performer_a = missing.pop(0)
    if item.performer_b_id is None and missing:
        item.performer_b = missing.pop(0)
    item.status, item.resolution, item.merge_record = ReviewStatus.OPEN, {}, None
    item.decided_by, item.decided_at = None, None
