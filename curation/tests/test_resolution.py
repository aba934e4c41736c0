from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from curation.choices import EvidenceKind, ReviewKind, ReviewStatus
from curation.face_distances import thresholds_for
from curation.models import ReviewItem
from curation.resolution.decisions import pair_key
from curation.services import identity_resolve_performer, review_item_reject
from performers.models import MergeRecord, Performer
from performers.services import StashIdInput, performer_create, performer_split
from performers.tests.factories import STASHDB, SourceFactory
from recognition.tests.factories import (
    DIM,
    METRIC,
    PROFILE,
    FaceFactory,
    at_distance,
    face_near,
    gallery,
    identity_centre,
)

pytestmark = pytest.mark.django_db

FANSDB = "https://fansdb.cc/graphql"
TPDB = "https://api.theporndb.net"
UUID_A = "0b5a4c1e-1111-4a2b-9c3d-000000000001"
UUID_B = "0b5a4c1e-2222-4a2b-9c3d-000000000002"
# The faces are the default profile's, and so are the distances that decide.
THRESHOLDS = thresholds_for(PROFILE)
# Close enough to back a shared name, too far to stand alone.
IN_BETWEEN = (THRESHOLDS.face_only_max + THRESHOLDS.name_and_face_max) / 2
CLEARLY_SOMEONE_ELSE = THRESHOLDS.contradiction_min + 0.2


def test_explicit_stashdb_link_merges_into_the_older_performer() -> None:
    on_stashdb = performer_create(name="Anna Example", stash_ids=[StashIdInput(STASHDB, UUID_A)])
    on_fansdb = performer_create(
        name="Anna E.",
        urls=[f"https://stashdb.org/performers/{UUID_A}"],
        stash_ids=[StashIdInput(FANSDB, UUID_B)],
    )

    outcome = identity_resolve_performer(performer=on_fansdb)

    assert [d.strongest.kind for d in outcome.merged] == [EvidenceKind.EXPLICIT_LINK]
    assert list(Performer.objects.values_list("pk", flat=True)) == [on_stashdb.pk]
    assert outcome.performer_id == on_stashdb.pk
    assert on_stashdb.stash_ids.count() == 2
    record = MergeRecord.objects.get()
    assert record.actor_label == "resolver"
    assert "Explicit cross-link" in record.reason and UUID_A in record.reason


def test_explicit_link_is_found_from_the_linked_side_too() -> None:
    linking = performer_create(
        name="Anna E.", urls=[f"https://www.stashdb.org/performers/{UUID_A}/"]
    )
    linked = performer_create(name="Someone Else", stash_ids=[StashIdInput(STASHDB, UUID_A)])

    outcome = identity_resolve_performer(performer=linked)

    assert len(outcome.merged) == 1
    assert list(Performer.objects.values_list("pk", flat=True)) == [linking.pk]


def test_theporndb_link_to_a_theporndb_stash_id_merges() -> None:
    SourceFactory.create(name="tpdb", kind="theporndb", url=TPDB)
    on_tpdb = performer_create(name="Anna", stash_ids=[StashIdInput(TPDB, UUID_B)])
    on_stashdb = performer_create(
        name="Anna Example",
        urls=[f"https://theporndb.net/performers/{UUID_B}"],
        stash_ids=[StashIdInput(STASHDB, UUID_A)],
    )

    identity_resolve_performer(performer=on_stashdb)

    assert list(Performer.objects.values_list("pk", flat=True)) == [on_tpdb.pk]


def test_link_to_a_stashbox_host_known_only_as_a_source_merges() -> None:
    SourceFactory.create(name="pmv", url="https://box.example.org/graphql")
    target = performer_create(
        name="A", stash_ids=[StashIdInput("https://box.example.org/graphql", UUID_A)]
    )
    linking = performer_create(name="B", urls=[f"https://box.example.org/performers/{UUID_A}"])

    identity_resolve_performer(performer=linking)

    assert list(Performer.objects.values_list("pk", flat=True)) == [target.pk]


def test_shared_instagram_profile_in_different_url_forms_merges() -> None:
    first = performer_create(
        name="Anna Example", urls=["https://www.instagram.com/Anna.Example/?hl=en"]
    )
    second = performer_create(name="Annie X", urls=["instagram.com/anna.example"])

    outcome = identity_resolve_performer(performer=second)

    assert [d.strongest.kind for d in outcome.merged] == [EvidenceKind.SHARED_PROFILE]
    assert list(Performer.objects.values_list("pk", flat=True)) == [first.pk]
    assert "instagram" in MergeRecord.objects.get().reason


def test_a_profile_shared_by_many_performers_is_an_agency_not_a_person() -> None:
    for index in range(5):
        performer_create(name=f"Model {index}", urls=["https://twitter.com/bigstudio"])

    outcome = identity_resolve_performer(performer=Performer.objects.all()[0])

    assert outcome.decisions == []
    assert Performer.objects.count() == 5


def test_same_name_and_close_faces_open_a_review_item() -> None:
    centre = identity_centre(7)
    first = performer_create(name="Anna De-Ville")
    second = performer_create(name="anna  de ville")
    gallery(first, centre, 4, seed=1)
    gallery(second, centre, 3, seed=50)

    outcome = identity_resolve_performer(performer=second)

    assert outcome.merged == []
    item = ReviewItem.objects.get()
    assert item.kind == ReviewKind.DUPLICATE and item.status == ReviewStatus.OPEN
    assert (item.performer_a, item.performer_b) == (first, second)
    assert item.evidence[0]["kind"] == EvidenceKind.NAME_AND_FACE
    assert item.evidence[0]["details"]["distance"] < THRESHOLDS.same
    assert 0.5 < item.score <= 1.0
    assert Performer.objects.count() == 2


def test_alias_equality_counts_as_a_name() -> None:
    centre = identity_centre(8)
    first = performer_create(name="Anna Example", aliases=["Ánna Ex"])
    second = performer_create(name="Anna Ex")
    gallery(first, centre, 3, seed=1)
    gallery(second, centre, 3, seed=9)

    identity_resolve_performer(performer=second)

    assert ReviewItem.objects.get().evidence[0]["details"]["names"] == ["anna ex"]


def test_same_name_alone_does_nothing() -> None:
    first = performer_create(name="Anna Example")
    second = performer_create(name="Anna Example")
    gallery(first, identity_centre(1), 3, seed=1)
    gallery(second, identity_centre(2), 3, seed=2)

    outcome = identity_resolve_performer(performer=second)

    assert outcome.decisions == []
    assert not ReviewItem.objects.exists()
    assert Performer.objects.count() == 2


def test_same_name_without_faces_does_nothing() -> None:
    performer_create(name="Anna Example")
    second = performer_create(name="Anna Example")

    assert identity_resolve_performer(performer=second).decisions == []
    assert not ReviewItem.objects.exists()


def test_very_close_faces_alone_open_a_review_item() -> None:
    centre = identity_centre(3)
    first = performer_create(name="Completely Different")
    second = performer_create(name="Another Name")
    gallery(first, centre, 3, seed=1)
    gallery(second, centre, 3, seed=30)
    gallery(performer_create(name="Bystander"), identity_centre(4), 3, seed=60)

    identity_resolve_performer(performer=second)

    item = ReviewItem.objects.get()
    assert item.evidence[0]["kind"] == EvidenceKind.FACE
    assert {item.performer_a, item.performer_b} == {first, second}


def test_faces_in_between_without_a_name_do_nothing() -> None:
    centre = identity_centre(3)
    first = performer_create(name="Completely Different")
    second = performer_create(name="Another Name")
    FaceFactory.create(performer=first, vector=centre)
    FaceFactory.create(performer=second, vector=at_distance(centre, IN_BETWEEN, seed=1))

    identity_resolve_performer(performer=second)

    assert not ReviewItem.objects.exists()


def test_two_entries_on_one_endpoint_are_not_merged_automatically() -> None:
    first = performer_create(
        name="A", urls=["https://onlyfans.com/anna"], stash_ids=[StashIdInput(STASHDB, UUID_A)]
    )
    second = performer_create(
        name="B", urls=["https://onlyfans.com/Anna/"], stash_ids=[StashIdInput(STASHDB, UUID_B)]
    )

    outcome = identity_resolve_performer(performer=second)

    assert outcome.merged == []
    item = ReviewItem.objects.get()
    assert item.score == pytest.approx(0.95)
    assert "each has its own entry on https://stashdb.org/graphql" in item.evidence[-1]["summary"]
    assert {item.performer_a, item.performer_b} == {first, second}


def test_strong_link_with_clearly_different_faces_waits_for_a_curator() -> None:
    first = performer_create(name="A", urls=["https://twitter.com/anna"])
    second = performer_create(name="B", urls=["https://x.com/Anna"])
    centre = identity_centre(1)
    gallery(first, centre, 3, seed=1)
    gallery(second, at_distance(centre, CLEARLY_SOMEONE_ELSE, seed=2), 3, seed=2)

    outcome = identity_resolve_performer(performer=second)

    assert outcome.merged == [] and len(outcome.review_items) == 1
    assert "faces disagree" in ReviewItem.objects.get().evidence[-1]["summary"]


def test_candidates_that_clash_with_each_other_are_not_merged_together() -> None:
    on_stashdb = performer_create(name="A", stash_ids=[StashIdInput(STASHDB, UUID_A)])
    also_on_stashdb = performer_create(
        name="B", urls=["https://twitter.com/anna"], stash_ids=[StashIdInput(STASHDB, UUID_B)]
    )
    linking = performer_create(
        name="C",
        urls=[f"https://stashdb.org/performers/{UUID_A}", "https://twitter.com/anna"],
    )

    outcome = identity_resolve_performer(performer=linking)

    assert len(outcome.merged) == 1 and MergeRecord.objects.count() == 1
    assert set(Performer.objects.values_list("pk", flat=True)) == {
        on_stashdb.pk,
        also_on_stashdb.pk,
    }
    item = ReviewItem.objects.get()
    assert {item.performer_a, item.performer_b} == {on_stashdb, also_on_stashdb}
    assert "each has its own entry" in item.evidence[-1]["summary"]


def test_an_undone_merge_is_not_redone_automatically() -> None:
    first = performer_create(name="A", urls=["https://twitter.com/anna"])
    second = performer_create(name="B", urls=["https://twitter.com/anna"])
    identity_resolve_performer(performer=second)
    performer_split(merge_record=MergeRecord.objects.get(), actor="admin")

    outcome = identity_resolve_performer(performer=Performer.objects.get(pk=second.pk))

    assert outcome.merged == []
    assert Performer.objects.count() == 2
    item = ReviewItem.objects.get()
    assert "undone" in item.evidence[-1]["summary"]
    assert {item.performer_a_id, item.performer_b_id} == {first.pk, second.pk}


def test_a_rejected_pair_is_never_suggested_again(django_user_model: Any) -> None:
    reviewer = django_user_model.objects.create_user("curator")
    centre = identity_centre(5)
    first = performer_create(name="Anna Example")
    second = performer_create(name="Anna Example")
    gallery(first, centre, 3, seed=1)
    gallery(second, centre, 3, seed=2)
    identity_resolve_performer(performer=second)
    review_item_reject(item=ReviewItem.objects.get(), user=reviewer)

    # Even stronger evidence later does not bring the pair back, from either side.
    gallery(second, centre, 3, seed=3)
    assert identity_resolve_performer(performer=second).decisions == []
    assert identity_resolve_performer(performer=first).decisions == []
    item = ReviewItem.objects.get()
    assert item.status == ReviewStatus.REJECTED
    assert item.subject_key == pair_key(second.pk, first.pk)


def test_resolving_again_refreshes_the_open_item_instead_of_adding_one() -> None:
    centre = identity_centre(5)
    first = performer_create(name="Anna Example")
    second = performer_create(name="Anna Example")
    gallery(first, centre, 3, seed=1)
    gallery(second, centre, 3, seed=2)

    identity_resolve_performer(performer=second)
    identity_resolve_performer(performer=first)

    assert ReviewItem.objects.count() == 1


def test_dry_run_reports_without_changing_anything() -> None:
    performer_create(name="A", urls=["https://twitter.com/anna"])
    second = performer_create(name="B", urls=["https://twitter.com/anna"])

    outcome = identity_resolve_performer(performer=second, dry_run=True)

    assert len(outcome.merged) == 1 and outcome.dry_run
    assert Performer.objects.count() == 2 and not MergeRecord.objects.exists()


def test_a_chain_of_links_merges_all_three() -> None:
    a = performer_create(name="A", stash_ids=[StashIdInput(STASHDB, UUID_A)])
    b = performer_create(
        name="B",
        urls=[f"https://stashdb.org/performers/{UUID_A}"],
        stash_ids=[StashIdInput(FANSDB, UUID_B)],
    )
    c = performer_create(name="C", urls=[f"https://fansdb.cc/performers/{UUID_B}"])

    identity_resolve_performer(performer=c)

    assert list(Performer.objects.values_list("pk", flat=True)) == [a.pk]
    assert MergeRecord.objects.count() == 2
    assert b.pk not in set(Performer.objects.values_list("pk", flat=True))


def test_face_only_search_uses_the_active_index(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    import recognition.searchable_gallery
    from recognition.choices import BuildStatus
    from recognition.index import build_from_batches
    from recognition.models import Face, IndexBuild

    centre = identity_centre(3)
    first = performer_create(name="X")
    second = performer_create(name="Y")
    gallery(first, centre, 3, seed=1)
    path = Path(str(tmp_path)) / "index.bin"
    faces = list(Face.objects.order_by("pk"))
    build_from_batches(
        path,
        DIM,
        METRIC,
        [(np.array([f.pk for f in faces]), np.stack([f.vector() for f in faces]))],
    )
    IndexBuild.objects.create(
        profile=PROFILE,
        path=str(path),
        status=BuildStatus.DONE,
        active=True,
        max_face_id=faces[-1].pk,
    )
    monkeypatch.setattr(
        recognition.searchable_gallery, "_galleries", {}
    )  # no index from another test
    # Added after the build: the gallery appends it.
    gallery(second, face_near(centre, 99), 2, seed=40)

    identity_resolve_performer(performer=second)

    assert ReviewItem.objects.get().evidence[0]["kind"] == EvidenceKind.FACE
