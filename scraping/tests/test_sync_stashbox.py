"""Syncing a stash-box endpoint (FakeStashBox: real HTTP, the real schema) into the graph."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fakes import FakeStashBox
from performers.models import BodyModification, Performer, StashId
from performers.services import performer_merge
from recognition.models import Face
from scraping.choices import ItemOutcome, RunStatus
from scraping.models import SyncItem
from scraping.sync.clients import clients_for
from scraping.tests.test_sync_support import (
    PEOPLE,
    graph,
    items_of,
    needs_specs,
    photos,
    stashbox_source,
    sync,
)
from stashsense.http import BlockedUrlError

pytestmark = [needs_specs, pytest.mark.django_db]


def _fill(box: FakeStashBox, count: int, *, photos_each: int = 1) -> list[str]:
    ids = []
    for n in range(count):
        person = PEOPLE[n % len(PEOPLE)]
        ids.append(
            box.add_performer(
                f"Performer {n}",
                aliases=[f"Alias {n}"],
                images=photos(person, photos_each),
                urls=[(f"https://twitter.com/performer{n}", "Twitter")],
                gender="FEMALE",
                birth_date="1990-05",
                height=170,
                tattoos=[{"location": "left arm", "description": "rose"}],
            )
        )
    return ids


def test_full_sync_builds_performers_with_keys_aliases_urls_marks_and_faces(
    box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    ids = _fill(box, 4)
    source = stashbox_source(box)

    run = sync(source, full=True)

    assert run.status == RunStatus.DONE, run.last_error
    assert (run.performers_new, run.performers_updated, run.performers_deleted) == (4, 0, 0)
    assert (run.photos, run.faces, run.errors) == (4, 4, 0)
    assert run.pages == 2 and run.total == 4 and run.progress == 1.0
    assert sorted(items_of(run)) == sorted(ids)
    performer = Performer.objects.get(stash_ids__stash_id=ids[0])
    assert performer.name == "Performer 0"
    assert (performer.gender, performer.birth_date, performer.height_cm) == (
        "FEMALE",
        "1990-05",
        170,
    )
    assert [a.name for a in performer.aliases.all()] == ["Alias 0"]
    assert [u.url for u in performer.urls.all()] == ["https://twitter.com/performer0"]
    assert BodyModification.objects.filter(performer=performer, location="left arm").count() == 1
    stash_id = performer.stash_ids.get()
    assert (stash_id.endpoint, stash_id.source) == (box.endpoint, source)
    assert stash_id.upstream_updated_at is not None
    assert Face.objects.filter(performer=performer, origin="sync").count() == 1
    sizes = {r.param("size") for r in box.requests_to("/images/")}
    assert sizes == {"600"}


def test_a_second_full_sync_changes_nothing_and_fetches_no_photo(
    box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    _fill(box, 3)
    source = stashbox_source(box)
    sync(source, full=True)
    before = graph()
    box.reset_requests()

    again = sync(source, full=True)

    assert again.status == RunStatus.DONE
    assert (again.performers_new, again.performers_updated, again.photos) == (0, 0, 0)
    assert again.cursor["skipped"] == 3
    assert box.request_count("/images/") == 0
    assert graph() == before


def test_incremental_sync_refetches_only_what_changed_since_the_watermark(
    box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    ids = _fill(box, 5)
    source = stashbox_source(box)
    full = sync(source, full=True)
    assert full.watermark is not None
    box.update_performer(ids[1], aliases=["Alias 1", "New Alias"])
    box.update_performer(ids[2], images=photos("Carmen_Electra", 1, skip=3))
    newcomer = box.add_performer("Newcomer", images=photos("Lance_Bass", 1))
    box.reset_requests()

    run = sync(source, safety_margin_seconds=0)

    assert run.status == RunStatus.DONE, run.last_error
    assert (run.performers_new, run.performers_updated) == (1, 2)
    changed = SyncItem.objects.filter(run=run).exclude(outcome=ItemOutcome.UNCHANGED)
    assert sorted(changed.values_list("upstream_id", flat=True)) == sorted(
        [ids[1], ids[2], newcomer]
    )
    # UPDATED_AT DESC, 3 per page: listing stops at the first row older than the watermark.
    assert run.pages == 2 and run.cursor["skipped"] == 1
    assert box.request_count("/images/") == 2  # the replaced photo and the newcomer's
    assert run.faces == 2
    assert (
        Performer.objects.get(stash_ids__stash_id=ids[1]).aliases.filter(name="New Alias").exists()
    )
    assert Performer.objects.count() == 6


def test_incremental_sync_within_the_safety_margin_skips_unchanged_performers(
    box: FakeStashBox,
) -> None:
    ids = box.add_generated_performers(4)
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    box.update_performer(ids[0], aliases=["Later"])

    run = sync(source, images=False)  # a 5-minute margin covers the whole fake clock

    assert (run.performers_new, run.performers_updated, run.cursor["skipped"]) == (0, 1, 3)
    assert SyncItem.objects.get(run=run, upstream_id=ids[0]).outcome == ItemOutcome.UPDATED


def test_deleted_upstream_performers_are_marked_deleted_not_removed(box: FakeStashBox) -> None:
    ids = box.add_generated_performers(4)
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    box.delete_performer(ids[2])

    run = sync(source, full=True, images=False)

    assert run.performers_deleted == 1
    gone = StashId.objects.get(stash_id=ids[2])
    assert gone.deleted and gone.performer.name == "Performer 0003"
    assert StashId.objects.filter(deleted=False).count() == 3
    assert Performer.objects.count() == 4


def test_a_merge_upstream_folds_the_merged_identity_into_the_target(
    box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    target = box.add_performer("Target", images=photos("Joan_Laporta", 1))
    merged = box.add_performer(
        "Merged", aliases=["Old Name"], images=photos("Joan_Laporta", 1, skip=1)
    )
    source = stashbox_source(box)
    sync(source, full=True)
    assert Performer.objects.count() == 2
    box.merge_performers([merged], into=target)

    run = sync(source)

    assert run.performers_deleted == 1
    performer = Performer.objects.get()
    assert performer.name == "Target"
    keys = {s.stash_id: s for s in performer.stash_ids.all()}
    assert set(keys) == {target, merged}
    assert keys[merged].deleted and keys[merged].merged_into == target
    assert not keys[target].deleted
    assert Face.objects.filter(performer=performer).count() == 2
    assert performer.aliases.filter(name__in=["Merged", "Old Name"]).count() == 2


def test_a_merge_chain_found_by_the_full_sweep_ends_on_the_final_target(
    box: FakeStashBox,
) -> None:
    first, middle, final = (box.add_performer(name) for name in ("First", "Middle", "Final"))
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    box.merge_performers([first], into=middle)
    box.merge_performers([middle], into=final)  # final.merged_ids names `middle` only

    run = sync(source, full=True, images=False)

    assert run.status == RunStatus.DONE, run.last_error
    performer = Performer.objects.get()
    assert performer.name == "Final"
    rows = {s.stash_id: s for s in performer.stash_ids.all()}
    assert set(rows) == {first, middle, final}
    assert rows[first].merged_into == final and rows[first].deleted
    assert rows[middle].merged_into == final and rows[middle].deleted
    assert run.performers_deleted == 2


def test_rows_that_tie_and_move_between_pages_are_each_synced_once(box: FakeStashBox) -> None:
    tied = box.add_generated_performers(
        12, created=datetime(2024, 3, 1, tzinfo=UTC), updated=datetime(2024, 3, 1, tzinfo=UTC)
    )
    box.unstable_ties = True
    source = stashbox_source(box)

    run = sync(source, full=True, images=False, page_size=5)

    assert run.status == RunStatus.DONE
    assert run.cursor["passes"] == 2  # creation order tied: the name-sorted pass found the rest
    assert sorted(items_of(run)) == sorted(tied)
    assert run.performers_new == 12 and Performer.objects.count() == 12
    assert StashId.objects.count() == 12


def test_a_bad_api_key_fails_the_run_as_auth_failed_without_the_key(box: FakeStashBox) -> None:
    box.add_generated_performers(2)
    source = stashbox_source(box, api_key="wrong-secret-key")

    run = sync(source, full=True)

    assert run.status == RunStatus.AUTH_FAILED
    assert "bad API key for box" in run.last_error
    assert "wrong-secret-key" not in run.last_error + str(run.log)
    assert Performer.objects.count() == 0


def test_an_older_server_without_a_field_is_synced_and_the_fallback_is_logged(
    box: FakeStashBox,
) -> None:
    box.add_generated_performers(2)
    box.remove_field("URL", "site")
    source = stashbox_source(box)

    run = sync(source, full=True, images=False)

    assert run.status == RunStatus.DONE
    assert run.performers_new == 2
    messages = [entry["message"] for entry in run.log if entry["level"] == "warning"]
    assert any("Cannot query field" in m and "minimal field set" in m for m in messages)


def test_max_performers_stops_early_and_leaves_no_watermark(box: FakeStashBox) -> None:
    box.add_generated_performers(6)
    source = stashbox_source(box)

    run = sync(source, full=True, images=False, max_performers=4)

    assert run.status == RunStatus.DONE
    assert run.performers_new == 4 and run.cursor["partial"] is True
    assert run.watermark is None


def test_a_merged_entry_of_an_identity_with_other_live_entries_moves_alone(
    box: FakeStashBox,
) -> None:
    kept, merged, target = (box.add_performer(name) for name in ("Kept", "Merged", "Target"))
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    # Curation decided Kept and Merged are one person (two live entries, one identity).
    performer_merge(
        sources=[Performer.objects.get(stash_ids__stash_id=merged)],
        target=Performer.objects.get(stash_ids__stash_id=kept),
    )
    box.merge_performers([merged], into=target)

    sync(source, images=False)

    both = Performer.objects.get(stash_ids__stash_id=kept)
    assert set(both.stash_ids.values_list("stash_id", flat=True)) == {kept}
    moved = Performer.objects.get(stash_ids__stash_id=target)
    assert set(moved.stash_ids.values_list("stash_id", "merged_into")) == {
        (target, ""),
        (merged, target),
    }


def test_photos_on_another_host_go_through_the_ssrf_guard(box: FakeStashBox) -> None:
    image_id = box.add_image(b"\xff\xd8 not really a jpeg")
    clients = clients_for(stashbox_source(box))
    own_host = box.image_url(image_id)
    elsewhere = own_host.replace("127.0.0.1", "localhost")

    try:
        assert clients.fetch_photo(own_host).startswith(b"\xff\xd8")
        with pytest.raises(BlockedUrlError):
            clients.fetch_photo(elsewhere)
    finally:
        clients.close()
    assert [r.param("size") for r in box.requests_to("/images/")] == ["600"]
