"""How the review domain hears the layers below it: they send signals and register nothing
else; everything the review domain does in answer is one of its services."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.dispatch import receiver

from bundles.decisions import curator_verdicts_register
from curation.followed_merges import review_items_follow_merge, review_items_follow_unmerge
from curation.selectors import duplicates_rejected_pairs, faces_kept_by_curators
from curation.services import (
    faces_check_outliers,
    identity_resolve_performer,
    review_item_create_low_confidence,
)
from performers.models import MergeRecord, Performer
from performers.signals import performers_merged, performers_unmerged
from recognition.models import Face
from scraping.signals import item_synced
from stash.signals import review_requested

logger = logging.getLogger(__name__)


@receiver(item_synced, dispatch_uid="curation.synced_item_review")
def synced_item_review(
    *, performer: Performer, faces: list[Face], resolve: bool, **_: Any
) -> list[str]:
    """Outlier checks for a synced item's new faces, then identity resolution."""
    errors: list[str] = []
    if faces:
        errors += _guarded("outlier check", faces_check_outliers, faces=faces)
    if resolve:
        errors += _guarded("identity resolution", identity_resolve_performer, performer=performer)
    return errors


def _guarded(what: str, call: Callable[..., Any], **kwargs: Any) -> list[str]:
    try:
        call(**kwargs)
    except Exception as error:
        logger.exception("%s failed", what)
        return [f"{what}: {type(error).__name__}: {error}"]
    return []


@receiver(review_requested, dispatch_uid="curation.plugin_feedback_review")
def plugin_feedback_review(*, payload: Mapping[str, Any], score: float, **_: Any) -> int:
    """Plugin feedback a curator should see becomes a low-confidence item; its id is the answer."""
    return review_item_create_low_confidence(payload=payload, score=score).pk


class CuratorVerdicts:
    """The decisions bundle imports respect (`bundles.decisions.CuratorVerdicts`)."""

    def apart_pairs(self) -> set[frozenset[str]]:
        return duplicates_rejected_pairs()

    def kept_faces(self, face_ids: list[int]) -> set[int]:
        return faces_kept_by_curators(face_ids=face_ids)


curator_verdicts_register(CuratorVerdicts())


@receiver(performers_merged, dispatch_uid="curation.review_items_follow_merge")
def merge_followed_by_review_items(
    *, record: MergeRecord, target: Performer, source_keys: list[str], **_: Any
) -> None:
    review_items_follow_merge(record=record, target=target, source_keys=source_keys)


@receiver(performers_unmerged, dispatch_uid="curation.review_items_follow_unmerge")
def unmerge_followed_by_review_items(
    *, record: MergeRecord, restored: list[Performer], **_: Any
) -> None:
    review_items_follow_unmerge(record=record, restored=restored)
