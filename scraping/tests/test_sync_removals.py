"""Incremental stash-box syncs find performers deleted or merged upstream in the edit history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fakes import FakeStashBox
from performers.models import Performer, StashId
from scraping.choices import ItemOutcome, RunStatus
from scraping.models import SyncItem, SyncRun
from scraping.services import sync_run_create, sync_run_execute
from scraping.tests.test_sync_support import FAST_HTTP, needs_specs, stashbox_source, sync
from stashsense.http import TransientError

pytestmark = [needs_specs, pytest.mark.django_db]

# Before any time of the fake clock, so before every watermark.
LONG_AGO = datetime(2023, 6, 1, tzinfo=UTC)


def _removal_pages(box: FakeStashBox) -> list[tuple[str, int]]:
    """The (operation, page) of every edit query the fake was asked, in order."""
    asked = []
    for request in box.requests_to("/graphql"):
        body = request.json()
        if body["operationName"] == "PerformerRemovals":
            query_input = body["variables"]["input"]
            asked.append((query_input["operation"], query_input["page"]))
    return asked


def _outcomes(run: SyncRun) -> dict[str, str]:
    return dict(SyncItem.objects.filter(run=run).values_list("upstream_id", "outcome"))


def test_an_incremental_sync_marks_deleted_and_rekeys_merged_performers_from_the_edits(
    box: FakeStashBox,
) -> None:
    kept, deleted, merged, target = box.add_generated_performers(4)
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    box.delete_performer(deleted)
    box.merge_performers([merged], into=target)

    run = sync(source, images=False, safety_margin_seconds=0)

    assert run.status == RunStatus.DONE, run.last_error
    assert run.performers_deleted == 2
    assert _outcomes(run)[deleted] == ItemOutcome.DELETED
    gone = StashId.objects.get(stash_id=deleted)
    assert gone.deleted and gone.performer.name == "Performer 0002"
    performer = Performer.objects.get(stash_ids__stash_id=target)
    keys = {s.stash_id: s for s in performer.stash_ids.all()}
    assert set(keys) == {target, merged}
    assert keys[merged].deleted and keys[merged].merged_into == target
    assert not keys[target].deleted
    assert not StashId.objects.get(stash_id=kept).deleted
    assert Performer.objects.count() == 3
    assert _removal_pages(box) == [("DESTROY", 1), ("MERGE", 1)]
    assert run.cursor["stage"] == "items"


def test_an_incremental_sync_follows_a_merge_chain_the_listing_cannot_see(
    box: FakeStashBox,
) -> None:
    first, middle, final = (box.add_performer(name) for name in ("First", "Middle", "Final"))
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    box.merge_performers([first], into=middle)
    box.merge_performers([middle], into=final)  # final.merged_ids names `middle` only

    run = sync(source, images=False, safety_margin_seconds=0)

    assert run.status == RunStatus.DONE, run.last_error
    assert _outcomes(run)[first] == ItemOutcome.MERGED  # only the edit history names it
    performer = Performer.objects.get()
    assert performer.name == "Final"
    rows = {s.stash_id: s for s in performer.stash_ids.all()}
    assert set(rows) == {first, middle, final}
    assert rows[first].merged_into == final and rows[first].deleted
    assert rows[middle].merged_into == final and rows[middle].deleted
    assert run.performers_deleted == 2


def test_edits_closed_before_the_watermark_are_not_acted_on_and_end_the_paging(
    box: FakeStashBox,
) -> None:
    old_one, old_two, recent, _kept = box.add_generated_performers(4)
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    box.delete_performer(old_one, updated=LONG_AGO)
    box.delete_performer(old_two, updated=LONG_AGO)
    box.delete_performer(recent)
    box.reset_requests()

    run = sync(source, images=False, safety_margin_seconds=0, page_size=1)

    assert run.status == RunStatus.DONE, run.last_error
    assert StashId.objects.get(stash_id=recent).deleted
    assert not StashId.objects.filter(stash_id__in=[old_one, old_two], deleted=True).exists()
    assert run.performers_deleted == 1
    # Last closed first, one per page: the second page is older than the watermark.
    assert _removal_pages(box) == [("DESTROY", 1), ("DESTROY", 2), ("MERGE", 1)]


def test_a_performer_listed_then_deleted_within_one_run_is_left_to_the_next_run(
    box: FakeStashBox,
) -> None:
    changed, *_ = box.add_generated_performers(3)
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    box.update_performer(changed, aliases=["Later"])
    run = sync_run_create(source=source, images=False, safety_margin_seconds=0)

    def delete_once_listed(done: int, total: int) -> None:
        listed = SyncItem.objects.filter(run=run, upstream_id=changed).exists()
        if listed and not box.performer(changed)["deleted"]:
            box.delete_performer(changed)

    run = sync_run_execute(run=run, progress=delete_once_listed, http_options=FAST_HTTP)

    # Items are unique per run: the edit met in the removals stage is not handled twice.
    assert run.status == RunStatus.DONE, run.last_error
    assert _outcomes(run)[changed] == ItemOutcome.UPDATED
    assert not StashId.objects.get(stash_id=changed).deleted

    following = sync(source, images=False, safety_margin_seconds=0)

    assert _outcomes(following) == {changed: ItemOutcome.DELETED}
    assert StashId.objects.get(stash_id=changed).deleted


def test_a_server_that_does_not_list_edits_completes_the_run_with_a_warning(
    box: FakeStashBox,
) -> None:
    ids = box.add_generated_performers(3)
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    box.delete_performer(ids[0])
    box.update_performer(ids[1], aliases=["Later"])
    box.remove_field("Query", "queryEdits")

    run = sync(source, images=False, safety_margin_seconds=0)

    assert run.status == RunStatus.DONE, run.last_error
    assert run.errors == 0 and run.performers_updated == 1
    warnings = [entry["message"] for entry in run.log if entry["level"] == "warning"]
    assert any("does not list edits" in m and "found by full syncs" in m for m in warnings)
    assert not StashId.objects.get(stash_id=ids[0]).deleted
    assert run.watermark is not None

    swept = sync(source, full=True, images=False)  # as the warning says

    assert swept.performers_deleted == 1 and StashId.objects.get(stash_id=ids[0]).deleted


def test_a_run_failed_in_the_removals_stage_resumes_from_its_page(box: FakeStashBox) -> None:
    ids = box.add_generated_performers(6)
    source = stashbox_source(box)
    sync(source, full=True, images=False)
    deleted = ids[:5]
    for performer_id in deleted:
        box.delete_performer(performer_id)
    run = sync_run_create(source=source, images=False, page_size=3, safety_margin_seconds=0)

    def outage_after_page_one(done: int, total: int) -> None:
        if SyncItem.objects.filter(run=run, outcome=ItemOutcome.DELETED).count() == 3:
            box.fail_next(20, status=502, path="/graphql")

    with pytest.raises(TransientError):
        sync_run_execute(run=run, progress=outage_after_page_one, http_options=FAST_HTTP)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert (run.cursor["stage"], run.cursor["removals_operation"]) == ("removals", "DESTROY")
    assert run.cursor["removals_page"] == 2 and run.performers_deleted == 3
    box.clear_faults()
    box.reset_requests()

    resumed = sync_run_execute(run=run, http_options=FAST_HTTP)

    assert resumed.status == RunStatus.DONE, resumed.last_error
    assert _removal_pages(box) == [("DESTROY", 2), ("MERGE", 1)]
    assert resumed.performers_deleted == 5
    assert StashId.objects.filter(deleted=True).count() == 5
    assert sorted(k for k, v in _outcomes(run).items() if v == ItemOutcome.DELETED) == sorted(
        deleted
    )
