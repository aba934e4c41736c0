from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from curation.choices import ReviewKind, ReviewStatus
from curation.face_distances import thresholds_for
from curation.models import ReviewItem
from curation.services import (
    face_check_outlier,
    faces_check_outliers,
    review_item_accept,
    review_item_claim,
    review_item_create_duplicate,
    review_item_create_low_confidence,
    review_item_reject,
    review_item_skip,
)
from curation.tests.factories import (
    DuplicateItemFactory,
    LowConfidenceItemFactory,
    duplicate_item,
    suspicious_face_item,
)
from performers.models import MergeRecord, Performer
from performers.services import performer_create
from recognition.choices import FaceStatus
from recognition.tests.factories import (
    PROFILE,
    FaceFactory,
    at_distance,
    gallery,
    identity_centre,
)
from stashsense.errors import ApplicationError

pytestmark = pytest.mark.django_db

# The faces are the default profile's: a stranger sits past where its distances say
# "someone else".
THRESHOLDS = thresholds_for(PROFILE)
STRANGER = THRESHOLDS.contradiction_min + 0.2


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", is_staff=True)


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", is_staff=True)


def test_claim_takes_an_open_item_once(alice: Any, bob: Any) -> None:
    item = DuplicateItemFactory.create()

    assert review_item_claim(item=item, user=alice)
    assert not review_item_claim(item=item, user=bob)
    assert review_item_claim(item=item, user=alice)  # renewing one's own claim
    item.refresh_from_db()
    assert (item.status, item.claimed_by) == (ReviewStatus.CLAIMED, alice)


def test_a_stale_claim_can_be_taken_over(alice: Any, bob: Any, settings: Any) -> None:
    settings.CURATION_CLAIM_MINUTES = 10
    item = DuplicateItemFactory.create()
    review_item_claim(item=item, user=alice)
    ReviewItem.objects.filter(pk=item.pk).update(claimed_at=timezone.now() - timedelta(minutes=11))

    assert review_item_claim(item=item, user=bob)
    assert item.claimed_by == bob


def test_a_decided_item_cannot_be_claimed(alice: Any) -> None:
    item = DuplicateItemFactory.create(status=ReviewStatus.REJECTED)
    assert not review_item_claim(item=item, user=alice)


def test_accepting_a_duplicate_merges_b_into_a_and_links_the_record(alice: Any) -> None:
    item, a, b = duplicate_item()

    review_item_accept(item=item, user=alice)

    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED and item.decided_by == alice
    assert list(Performer.objects.values_list("pk", flat=True)) == [a.pk]
    assert item.performer_b is None  # deleted by the merge; the item survives
    record = MergeRecord.objects.get()
    assert item.merge_record == record and record.actor_label == "alice"
    assert f"#{item.pk}" in record.reason
    assert item.resolution["merged"] == [str(b.pk)]


def test_accepting_can_keep_the_second_performer(alice: Any) -> None:
    item, _, b = duplicate_item()

    review_item_accept(item=item, user=alice, keep=b)

    assert list(Performer.objects.values_list("pk", flat=True)) == [b.pk]


def test_an_item_is_never_applied_twice(alice: Any, bob: Any) -> None:
    item = DuplicateItemFactory.create()
    review_item_accept(item=item, user=alice)

    with pytest.raises(ApplicationError) as error:
        review_item_accept(item=ReviewItem.objects.get(pk=item.pk), user=bob)
    assert error.value.code == "review_item_decided"
    assert MergeRecord.objects.count() == 1


def test_an_item_claimed_by_someone_else_cannot_be_decided(alice: Any, bob: Any) -> None:
    item = DuplicateItemFactory.create()
    review_item_claim(item=item, user=alice)

    with pytest.raises(ApplicationError) as error:
        review_item_reject(item=item, user=bob)
    assert error.value.code == "review_item_claimed"
    assert ReviewItem.objects.get().status == ReviewStatus.CLAIMED


def test_a_failed_merge_leaves_the_item_open(alice: Any) -> None:
    item, _, b = duplicate_item()
    b.delete()  # merged away elsewhere
    item.refresh_from_db()

    with pytest.raises(ApplicationError) as error:
        review_item_accept(item=item, user=alice)
    assert error.value.code == "review_item_stale"
    assert ReviewItem.objects.get().status == ReviewStatus.OPEN


def test_rejecting_a_pair_keeps_both_and_blocks_the_pair(alice: Any) -> None:
    item, a, b = duplicate_item()

    review_item_reject(item=item, user=alice)

    assert Performer.objects.count() == 2
    again = review_item_create_duplicate(
        performer_a=b, performer_b=a, evidence=[{"summary": "again"}], score=0.99
    )
    assert again is None
    assert ReviewItem.objects.get().status == ReviewStatus.REJECTED


def test_skipping_releases_the_claim(alice: Any, bob: Any) -> None:
    item = DuplicateItemFactory.create()
    review_item_claim(item=item, user=alice)

    review_item_skip(item=item, user=alice)

    assert item.status == ReviewStatus.SKIPPED and item.claimed_by is None
    assert review_item_claim(item=item, user=bob)


def test_removing_a_suspicious_face_takes_it_out_of_the_gallery(alice: Any) -> None:
    item, face = suspicious_face_item()

    review_item_accept(item=item, user=alice)

    face.refresh_from_db()
    assert face.status == FaceStatus.REMOVED and face.removed_at is not None


def test_keeping_a_face_stops_it_being_flagged(alice: Any) -> None:
    performer = performer_create(name="Anna")
    centre = identity_centre(1)
    gallery(performer, centre, 4, seed=1)
    stranger = FaceFactory.create(performer=performer, vector=at_distance(centre, STRANGER, seed=5))

    item = face_check_outlier(face=stranger)
    assert item is not None and item.kind == ReviewKind.SUSPICIOUS_FACE
    assert item.evidence[0]["details"]["distance"] > THRESHOLDS.outlier_min
    review_item_reject(item=item, user=alice)

    assert face_check_outlier(face=stranger) is None
    stranger.refresh_from_db()
    assert stranger.status == FaceStatus.ACTIVE
    assert ReviewItem.objects.count() == 1


def test_a_face_like_the_rest_is_not_flagged() -> None:
    performer = performer_create(name="Anna")
    faces = gallery(performer, identity_centre(1), 5, seed=1)
    assert face_check_outlier(face=faces[0]) is None


def test_a_small_gallery_cannot_tell_which_face_is_odd() -> None:
    performer = performer_create(name="Anna")
    centre = identity_centre(1)
    gallery(performer, centre, 2, seed=1)
    stranger = FaceFactory.create(performer=performer, vector=at_distance(centre, STRANGER, seed=5))
    assert face_check_outlier(face=stranger) is None


def test_checking_several_faces_at_once_flags_the_same_faces_as_one_at_a_time() -> None:
    anna, bea = performer_create(name="Anna"), performer_create(name="Bea")
    anna_centre, bea_centre = identity_centre(1), identity_centre(2)
    anna_faces = gallery(anna, anna_centre, 4, seed=1)
    bea_faces = gallery(bea, bea_centre, 2, seed=2)  # too few to judge
    strangers = [
        FaceFactory.create(performer=anna, vector=at_distance(anna_centre, STRANGER, seed=5)),
        FaceFactory.create(performer=bea, vector=at_distance(bea_centre, STRANGER, seed=6)),
    ]
    faces = [anna_faces[0], strangers[0], bea_faces[0], strangers[1]]

    found = faces_check_outliers(faces=faces)

    assert [item is not None for item in found] == [False, True, False, False]
    flagged = found[1]
    assert flagged is not None and flagged.face == strangers[0]
    assert flagged.evidence[0]["details"]["compared_with"] == 4
    assert ReviewItem.objects.count() == 1
    # One at a time, the same verdicts (the open item is found again, not doubled).
    assert [face_check_outlier(face=face) is not None for face in faces] == [
        False,
        True,
        False,
        False,
    ]
    assert ReviewItem.objects.count() == 1


def test_low_confidence_feedback_is_queued_once_per_scene_person(alice: Any) -> None:
    payload = {
        "scene_id": "123",
        "person": 2,
        "thumbnail": "data:image/jpeg;base64,AAAA",
        "candidates": [{"performer_id": "p1", "name": "Anna", "confidence": 0.41}],
    }
    first = review_item_create_low_confidence(payload=payload, score=0.41)
    second = review_item_create_low_confidence(payload={**payload, "x": 1}, score=0.45)

    assert first.pk == second.pk and second.score == 0.45
    review_item_accept(item=second, user=alice, candidate_id="p1")
    assert ReviewItem.objects.get().resolution == {"candidate": "p1", "name": "Anna"}


def test_low_confidence_feedback_is_validated() -> None:
    with pytest.raises(ApplicationError):
        review_item_create_low_confidence(payload={"candidates": "nope"}, score=0.5)
    with pytest.raises(ApplicationError):
        review_item_create_low_confidence(payload={"candidates": []}, score=2)


def test_accepting_an_unknown_candidate_is_refused(alice: Any) -> None:
    item = LowConfidenceItemFactory.create()
    with pytest.raises(ApplicationError):
        review_item_accept(item=item, user=alice, candidate_id="someone")
    assert ReviewItem.objects.get().status == ReviewStatus.OPEN
