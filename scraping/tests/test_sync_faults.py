"""Exactly once under upstream faults: the graph a faulty sync builds is the fault-free one."""

from __future__ import annotations

import pytest

from fakes import FakeStashBox
from performers.models import Performer
from recognition.models import Face, SourceImage
from scraping.choices import ItemOutcome, RunStatus
from scraping.models import SyncItem, SyncRun
from scraping.services import sync_run_create, sync_run_execute
from scraping.tests.test_sync_support import (
    FAST_HTTP,
    PEOPLE,
    graph,
    needs_specs,
    photos,
    stashbox_source,
    sync,
)
from stashsense.http import TransientError

pytestmark = [needs_specs, pytest.mark.django_db]


def _fill(box: FakeStashBox, count: int) -> list[str]:
    return [
        box.add_performer(f"Performer {n}", aliases=[f"A{n}"], images=photos(PEOPLE[n], 1))
        for n in range(count)
    ]


def _forget_everything() -> None:
    Performer.objects.all().delete()
    SyncRun.objects.all().delete()


def test_429_bursts_500s_and_truncated_bodies_build_the_fault_free_graph(
    box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    _fill(box, 5)
    source = stashbox_source(box)
    clean = sync(source, full=True)
    expected = graph()
    _forget_everything()
    box.rate_limit_next(2, retry_after=0, path="/graphql")
    box.truncate_next(1, path="/graphql")
    box.fail_next(2, status=503, path="/images/")
    box.truncate_next(1, path="/images/")
    box.rate_limit_next(1, retry_after=0, path="/images/")

    faulty = sync(source, full=True)

    assert faulty.status == RunStatus.DONE, faulty.last_error
    assert graph() == expected
    counts = ("performers_new", "performers_updated", "photos", "faces", "errors")
    assert [getattr(faulty, c) for c in counts] == [getattr(clean, c) for c in counts]
    assert Face.objects.count() == SourceImage.objects.count() == 5


def test_a_fault_burst_past_the_retries_fails_the_run_and_a_rerun_resumes_it_exactly_once(
    box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    ids = _fill(box, 7)
    source = stashbox_source(box)
    run = sync_run_create(source=source, full=True, page_size=3, max_photos=1)

    def outage_after_page_one(done: int, total: int) -> None:
        if done == 3:
            box.fail_next(20, status=502, path="/graphql")

    with pytest.raises(TransientError):
        sync_run_execute(run=run, progress=outage_after_page_one, http_options=FAST_HTTP)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "unreachable" in run.last_error and "resume" in run.last_error
    assert run.performers_new == 3 and run.cursor["page"] == 2
    box.clear_faults()

    resumed = sync_run_execute(run=run, http_options=FAST_HTTP)

    assert resumed.status == RunStatus.DONE, resumed.last_error
    assert (resumed.performers_new, resumed.photos, resumed.faces) == (7, 7, 7)
    assert sorted(SyncItem.objects.filter(run=run).values_list("upstream_id", flat=True)) == sorted(
        ids
    )
    assert Performer.objects.count() == 7 and Face.objects.count() == 7
    assert SyncRun.objects.count() == 1


def test_an_unreadable_page_is_recorded_and_skipped_and_a_later_pass_covers_it(
    box: FakeStashBox,
) -> None:
    ids = box.add_generated_performers(7)
    source = stashbox_source(box)
    run = sync_run_create(source=source, full=True, page_size=3, images=False)

    def bad_page_two(done: int, total: int) -> None:
        if done == 3:
            box.fail_next(1, status=400, body={"errors": [{"message": "boom"}]}, path="/graphql")

    run = sync_run_execute(run=run, progress=bad_page_two, http_options=FAST_HTTP)

    assert run.status == RunStatus.DONE
    assert run.errors == 1 and "page 2 skipped" in run.last_error and "boom" in run.last_error
    assert sorted(SyncItem.objects.filter(run=run).values_list("upstream_id", flat=True)) == sorted(
        ids
    )
    assert Performer.objects.count() == 7


def test_a_photo_gone_upstream_is_recorded_and_the_performer_still_synced(
    box: FakeStashBox, faces_dir: object, face_models: None
) -> None:
    performer_id = box.add_performer("Alice", images=photos("Bill_Simon", 2))
    box.remove_image(box.image_ids(performer_id)[0])
    source = stashbox_source(box)

    run = sync(source, full=True)

    assert run.status == RunStatus.DONE
    assert (run.performers_new, run.photos, run.faces, run.errors) == (1, 1, 1, 1)
    item = SyncItem.objects.get(run=run)
    assert item.outcome == ItemOutcome.NEW and "HTTP 404" in item.error
