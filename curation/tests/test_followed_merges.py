"""Review items stay true when performers are merged or unmerged elsewhere (point 8)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from curation.choices import ReviewStatus
from curation.models import ReviewItem
from curation.resolution.decisions import pair_key
from curation.services import review_item_accept, review_item_claim
from curation.tests.factories import LowConfidenceItemFactory, duplicate_item
from performers.models import MergeRecord
from performers.services import performer_create, performer_merge, performer_split

pytestmark = pytest.mark.django_db


def test_a_merge_elsewhere_repoints_the_item_to_the_kept_performer(curator: Any) -> None:
    item, a, b = duplicate_item()
    review_item_claim(item=item, user=curator)
    kept = performer_create(name="Kept Elsewhere")

    performer_merge(sources=[a], target=kept, actor="admin")

    item.refresh_from_db()
    assert (item.performer_a, item.performer_b) == (kept, b)
    assert item.subject_key == pair_key(kept.pk, b.pk)
    assert item.summary.startswith(f"Kept Elsewhere ↔ {b}")
    assert item.status == ReviewStatus.OPEN and item.claimed_by is None  # released


def test_undoing_that_merge_puts_the_item_back(curator: Any) -> None:
    item, a, b = duplicate_item()
    before = (item.subject_key, item.summary)
    kept = performer_create(name="Kept Elsewhere")
    record = performer_merge(sources=[a], target=kept, actor="admin")

    performer_split(merge_record=record, actor="admin")

    item.refresh_from_db()
    assert (item.performer_a_id, item.performer_b_id) == (a.pk, b.pk)
    assert (item.subject_key, item.summary) == before
    assert item.payload.get("followed_merges") == []


def test_merging_the_very_pair_elsewhere_answers_the_item(curator: Any) -> None:
    item, a, b = duplicate_item()
    review_item_claim(item=item, user=curator)

    record = performer_merge(sources=[b], target=a, actor=curator)

    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED and item.merge_record == record
    assert item.claimed_by is None and item.decided_by == curator
    assert item.resolution["merged_elsewhere"] is True

    performer_split(merge_record=record)
    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN and item.merge_record is None
    assert (item.performer_a_id, item.performer_b_id) == (a.pk, b.pk)
    assert item.resolution == {} and item.decided_by is None


def test_undoing_a_merge_accepted_on_the_dashboard_reopens_the_item(curator: Any) -> None:
    item, a, b = duplicate_item()
    review_item_accept(item=item, user=curator)
    item.refresh_from_db()
    assert item.performer_b is None  # merged away

    performer_split(merge_record=MergeRecord.objects.get())

    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN and item.merge_record is None
    assert (item.performer_a_id, item.performer_b_id) == (a.pk, b.pk)


def test_a_repointed_pair_already_asked_is_answered_instead_of_asked_twice() -> None:
    item, a, b = duplicate_item()
    same_question, kept, _ = duplicate_item(performer_b=b)

    performer_merge(sources=[a], target=kept)

    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED
    assert ReviewItem.objects.get(pk=same_question.pk).status == ReviewStatus.OPEN


def test_decided_items_are_left_as_they_were(curator: Any) -> None:
    item, a, _ = duplicate_item(status=ReviewStatus.REJECTED)
    key = item.subject_key
    performer_merge(sources=[a], target=performer_create(name="Elsewhere"))
    item.refresh_from_db()
    assert item.status == ReviewStatus.REJECTED and item.subject_key == key


def test_an_admin_merge_and_undo_keep_the_dashboard_item_true(
    admin_client: Client, curator: Any
) -> None:
    item, a, _ = duplicate_item()
    kept = performer_create(name="Kept In Admin")
    admin_client.post(
        reverse("admin:performers_performer_changelist"),
        {
            "action": "merge_selected",
            "_selected_action": [str(a.pk), str(kept.pk)],
            "confirm": "yes",
            "target": str(kept.pk),
        },
    )
    page = admin_client.get(reverse("curation:item", args=[item.pk])).content.decode()
    assert "Kept In Admin" in page and "no longer exists" not in page

    record = MergeRecord.objects.get()
    admin_client.post(
        reverse("admin:performers_mergerecord_changelist"),
        {"action": "undo_merge", "_selected_action": [record.pk], "index": "0"},
    )
    item.refresh_from_db()
    assert item.performer_a_id == a.pk


def test_the_merge_record_page_speaks_plainly_and_has_an_undo_button(
    admin_client: Client,
) -> None:
    item, a, b = duplicate_item()
    record = performer_merge(sources=[b], target=a, actor="admin")
    change = reverse("admin:performers_mergerecord_change", args=[record.pk])

    page = admin_client.get(change).content.decode()
    assert f"{b.name}" in page and "Undo this merge" in page
    assert '"performers.performeralias"' not in page  # no raw snapshot JSON

    response = admin_client.post(
        reverse("admin:performers_mergerecord_changelist"),
        {"action": "undo_merge", "_selected_action": [record.pk], "index": "0"},
        follow=True,
    )
    assert b"Undid merge" in response.content
    record.refresh_from_db()
    assert record.undone_at is not None
    assert "Undo this merge" not in admin_client.get(change).content.decode()
    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN


def test_merge_records_and_merge_choices_show_no_ids(admin_client: Client) -> None:
    _, a, b = duplicate_item()
    record = performer_merge(sources=[b], target=a)
    assert str(record).startswith(f"Merge #{record.pk} of 1 performer, ")

    c = performer_create(name="Same Name")
    d = performer_create(name="Same Name")
    page = admin_client.post(
        reverse("admin:performers_performer_changelist"),
        {"action": "merge_selected", "_selected_action": [str(c.pk), str(d.pk)]},
    ).content.decode()
    assert "Same Name · no stash ID · added " in page and f">{c.pk}" not in page


def test_the_review_item_admin_page_speaks_plainly(admin_client: Client, curator: Any) -> None:
    item, _, _ = duplicate_item(score=0.8234567890123456)
    review_item_accept(item=item, user=curator)

    listing = admin_client.get(reverse("admin:curation_reviewitem_changelist")).content.decode()
    page = admin_client.get(
        reverse("admin:curation_reviewitem_change", args=[item.pk])
    ).content.decode()

    assert "0.82" in listing and "0.8234567" not in listing
    assert "Same name and similar faces: both are called" in page
    assert "Merged (see the merge record)." in page and "&quot;kept&quot;" not in page


def test_low_confidence_candidates_follow_a_merge_and_its_undo() -> None:
    merged = performer_create(name="Merged Away")
    kept = performer_create(name="Kept One")
    before = {
        "scene_id": "3",
        "rejected_performer_id": str(merged.pk),
        "candidates": [
            {"performer_id": str(merged.pk), "name": "Merged Away", "confidence": 0.6},
            {"performer_id": str(kept.pk), "name": "Kept One", "confidence": 0.5},
        ],
    }
    item = LowConfidenceItemFactory.create(payload=before)

    record = performer_merge(sources=[merged], target=kept)

    item.refresh_from_db()
    assert item.payload["candidates"] == [
        {"performer_id": str(kept.pk), "name": "Kept One", "confidence": 0.6}
    ]
    assert item.payload["rejected_performer_id"] == str(kept.pk)

    performer_split(merge_record=record)
    item.refresh_from_db()
    assert {k: item.payload[k] for k in before} == before
