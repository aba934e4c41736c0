from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from curation.choices import ReviewStatus
from curation.models import ReviewItem
from curation.tests.factories import (
    DuplicateItemFactory,
    LowConfidenceItemFactory,
    SuspiciousFaceItemFactory,
    duplicate_item,
    suspicious_face_item,
)
from performers.models import Performer
from performers.services import StashIdInput, performer_create
from performers.tests.factories import STASHDB, SourceFactory
from recognition.choices import BuildStatus, FaceStatus
from recognition.models import IndexBuild
from recognition.tests.factories import PROFILE, FaceFactory
from scraping.choices import RunStatus
from scraping.models import SyncRun
from scraping.sync.runs import RunHolder, RunLost, run_claim
from stash.models import SceneScan
from stashsense.jobs import job_cancel

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(curator: Any) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def test_pages_need_a_staff_login() -> None:
    response = Client().get(reverse("curation:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_jobs_feed_answers_json_403_without_a_session() -> None:
    response = Client().get(reverse("curation:jobs_feed"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_authenticated"


def test_root_redirects_to_the_dashboard(client_in: Client) -> None:
    response = client_in.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("curation:queue")


def test_queue_sorts_by_score_counts_kinds_and_filters(client_in: Client) -> None:
    low = DuplicateItemFactory.create(score=0.3, summary="low one")
    high = DuplicateItemFactory.create(score=0.9, summary="high one")
    face = SuspiciousFaceItemFactory.create(score=0.5)
    DuplicateItemFactory.create(score=0.95, summary="done one", status=ReviewStatus.REJECTED)

    page = client_in.get(reverse("curation:queue")).content.decode()
    face_row = f'data-item="{face.pk}"'
    assert page.index("high one") < page.index(face_row) < page.index("low one")
    assert "done one" not in page
    assert 'data-kind="duplicate">Possible duplicate identity <strong>2</strong>' in page

    only_faces = client_in.get(reverse("curation:queue"), {"kind": "suspicious_face"})
    assert face_row.encode() in only_faces.content and b"high one" not in only_faces.content
    scored = client_in.get(reverse("curation:queue"), {"min_score": "0.6"})
    assert b"high one" in scored.content and b"low one" not in scored.content
    assert f"/items/{high.pk}/?min_score=0.6".encode() in scored.content
    assert low.pk


def test_queue_filters_by_source(client_in: Client) -> None:
    source = SourceFactory.create(name="stashdb", url=STASHDB)
    on_source = performer_create(name="On StashDB", stash_ids=[StashIdInput(STASHDB, "x1")])
    DuplicateItemFactory.create(performer_a=on_source, summary="from stashdb")
    DuplicateItemFactory.create(summary="from elsewhere")

    page = client_in.get(reverse("curation:queue"), {"source": source.name}).content
    assert b"from stashdb" in page and b"from elsewhere" not in page


def test_item_page_shows_both_sides_and_claims_nothing(client_in: Client) -> None:
    a = performer_create(
        name="Anna Example",
        aliases=["Annie"],
        urls=["https://twitter.com/anna"],
        stash_ids=[StashIdInput(STASHDB, "uuid-a")],
    )
    item = DuplicateItemFactory.create(performer_a=a)
    face = FaceFactory.create(performer=a)

    page = client_in.get(reverse("curation:item", args=[item.pk])).content.decode()

    assert "Anna Example" in page and "Annie" in page and "https://twitter.com/anna" in page
    assert 'href="https://stashdb.org/performers/uuid-a"' in page
    assert reverse("curation:face_crop", args=[face.pk]) in page
    assert 'data-key="a"' in page and "csrfmiddlewaretoken" in page
    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN and item.claimed_by is None


def test_item_claimed_by_someone_else_shows_no_buttons(
    client_in: Client, django_user_model: Any
) -> None:
    other = django_user_model.objects.create_user("other", is_staff=True)
    item = DuplicateItemFactory.create(status=ReviewStatus.CLAIMED, claimed_by=other)
    from django.utils import timezone

    ReviewItem.objects.filter(pk=item.pk).update(claimed_at=timezone.now())
    page = client_in.get(reverse("curation:item", args=[item.pk])).content.decode()
    assert "other is reviewing this item" in page and 'data-key="a"' not in page


def test_accepting_goes_straight_on_to_the_next_open_item(client_in: Client) -> None:
    first, _, merged = duplicate_item(score=0.9)
    second = DuplicateItemFactory.create(score=0.8)

    response = client_in.post(
        reverse("curation:decide", args=[first.pk]), {"decision": "accept", "filters": ""}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("curation:item", args=[second.pk])
    assert not Performer.objects.filter(pk=merged.pk).exists()
    follow = client_in.get(response["Location"])
    assert b"Merged into" in follow.content


def test_deciding_the_last_item_returns_to_the_queue_with_filters(client_in: Client) -> None:
    item = DuplicateItemFactory.create()
    response = client_in.post(
        reverse("curation:decide", args=[item.pk]),
        {"decision": "reject", "filters": "kind=duplicate"},
    )
    assert response["Location"] == reverse("curation:queue") + "?kind=duplicate"
    assert ReviewItem.objects.get().status == ReviewStatus.REJECTED


def test_deciding_twice_shows_an_error_instead_of_applying_again(client_in: Client) -> None:
    item = DuplicateItemFactory.create()
    client_in.post(reverse("curation:decide", args=[item.pk]), {"decision": "accept"})
    response = client_in.post(
        reverse("curation:decide", args=[item.pk]), {"decision": "accept"}, follow=True
    )
    assert b"already accepted" in response.content


def test_removing_a_suspicious_face_from_the_dashboard(client_in: Client) -> None:
    item, face = suspicious_face_item()
    page = client_in.get(reverse("curation:item", args=[item.pk]))
    assert b"Remove from gallery" in page.content and b"Keep" in page.content

    client_in.post(reverse("curation:decide", args=[item.pk]), {"decision": "accept"})

    face.refresh_from_db()
    assert face.status == FaceStatus.REMOVED


def test_low_confidence_item_shows_only_inline_thumbnails(client_in: Client) -> None:
    item = LowConfidenceItemFactory.create(
        payload={
            "scene_id": "9",
            "person": 1,
            "thumbnail": "https://evil.example/track.gif",
            "candidates": [{"performer_id": "p1", "name": "Candidate One", "confidence": 0.4}],
        }
    )
    page = client_in.get(reverse("curation:item", args=[item.pk])).content.decode()
    assert "Candidate One" in page and "evil.example" not in page


def test_face_crop_is_served_to_staff_only(client_in: Client) -> None:
    face = FaceFactory.create()
    response = client_in.get(reverse("curation:face_crop", args=[face.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content[:2] == b"\xff\xd8"
    assert Client().get(reverse("curation:face_crop", args=[face.pk])).status_code == 302


def test_jobs_page_and_feed_show_progress_and_errors(client_in: Client) -> None:
    source = SourceFactory.create(name="stashdb")
    SyncRun.objects.create(
        source=source,
        status=RunStatus.RUNNING,
        total=200,
        performers_new=50,
        last_error="HTTP 502 from upstream",
    )
    IndexBuild.objects.create(
        profile=PROFILE,
        path="/tmp/x",
        progress=0.25,
        error="disk full",
        status=BuildStatus.FAILED,
    )

    page = client_in.get(reverse("curation:jobs")).content.decode()
    assert "HTTP 502 from upstream" in page and "disk full" in page
    assert 'value="0.25"' in page

    feed = client_in.get(reverse("curation:jobs_feed")).json()
    assert feed["sync_runs"][0]["progress"] == 0.25 and feed["sync_runs"][0]["source"] == "stashdb"
    assert feed["index_builds"][0]["last_error"] == "disk full"


def test_quality_page_draws_histograms_and_face_count_buckets(client_in: Client) -> None:
    lonely = performer_create(name="One Face")
    FaceFactory.create(performer=lonely, quality=0.15)
    busy = performer_create(name="Many Faces")
    for _ in range(5):
        FaceFactory.create(performer=busy, quality=0.95)
    FaceFactory.create(performer=busy, quality=0.5, status=FaceStatus.REMOVED)
    performer_create(name="No Face")
    DuplicateItemFactory.create(score=0.72)

    response = client_in.get(reverse("curation:quality"))
    page = response.content.decode()

    assert response.status_code == 200 and page.count("<svg") >= 5
    buckets = {bucket: count for _, bucket, count in response.context["by_faces"]}
    # DuplicateItemFactory made two performers without faces.
    assert buckets == {"0": 3, "1": 1, "2-4": 0, "5+": 1}
    assert ">1 face</text>" in page and 'class="axis-label"' in page
    assert f'href="{reverse("curation:performers")}?faces=1"' in page
    lonely_list = client_in.get(reverse("curation:performers"), {"faces": "1"}).content.decode()
    assert "One Face" in lonely_list and "Many Faces" not in lonely_list
    quality = response.context["quality_chart"]
    assert [bar.count for bar in quality.bars] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 5]


def test_low_confidence_item_shows_the_users_decision_faces_and_the_scene(
    client_in: Client, settings: Any
) -> None:
    settings.STASH_URL = "http://stash.local:9999"
    rejected = performer_create(name="Not Him")
    likely = performer_create(name="Likely Her")
    face = FaceFactory.create(performer=likely)
    item = LowConfidenceItemFactory.create(
        payload={
            "scene_id": "31",
            "person": 2,
            "decision": "reject",
            "rejected_performer_id": str(rejected.pk),
            "rejected_name": "Not Him",
            "candidates": [
                {"performer_id": str(rejected.pk), "name": "Not Him", "confidence": 0.7},
                {"performer_id": str(likely.pk), "name": "Likely Her", "confidence": 0.4},
            ],
        }
    )

    page = client_in.get(reverse("curation:item", args=[item.pk])).content.decode()

    assert "Person 3 of scene 31" in page  # the plugin counts from 1
    assert 'href="http://stash.local:9999/scenes/31"' in page
    assert "The Stash user said this is <strong>not Not Him</strong>" in page
    assert reverse("curation:face_crop", args=[face.pk]) in page
    assert f'value="{likely.pk}" checked' in page and f'value="{rejected.pk}" checked' not in page


def test_the_curator_can_name_someone_else_found_by_search(client_in: Client) -> None:
    elsewhere = performer_create(name="Someone Elsewhere")
    item = LowConfidenceItemFactory.create(
        payload={"scene_id": "5", "candidates": [{"performer_id": "p1", "name": "Wrong"}]}
    )

    page = client_in.get(reverse("curation:item", args=[item.pk]), {"q": "elsewhere"})
    assert f'value="{elsewhere.pk}"' in page.content.decode()

    client_in.post(
        reverse("curation:decide", args=[item.pk]),
        {"decision": "accept", "candidate": str(elsewhere.pk)},
    )
    item.refresh_from_db()
    assert item.resolution == {
        "candidate": str(elsewhere.pk),
        "name": "Someone Elsewhere",
        "picked": "search",
    }


def test_start_a_sync_a_library_scan_and_an_index_build_from_the_jobs_page(
    client_in: Client, settings: Any
) -> None:
    source = SourceFactory.create(name="stashdb")
    start = reverse("curation:job_start")

    synced = client_in.post(start, {"job": "sync", "source": "stashdb", "full": "on"}, follow=True)
    run = SyncRun.objects.get(source=source)
    assert run.kind == "full" and b"Queued a full sync of stashdb." in synced.content

    settings.STASH_URL = ""
    refused = client_in.post(start, {"job": "scan"}, follow=True)
    assert b"Set STASH_URL first" in refused.content and not SceneScan.objects.exists()
    settings.STASH_URL = "http://stash.local:9999"
    client_in.post(start, {"job": "scan"})
    assert SceneScan.objects.count() == 1

    built = client_in.post(start, {"job": "index"}, follow=True)
    assert b"Queued an index build" in built.content

    page = client_in.get(reverse("curation:jobs")).content.decode()
    assert f'data-job="sync-{run.pk}"' in page and 'data-section="scene_scans"' in page
    feed = client_in.get(reverse("curation:jobs_feed")).json()
    assert feed["scene_scans"][0]["status"] == "pending"
    assert len(feed["sync_runs"][0]["started_label"]) == len("2026-12-04 22:55")


@pytest.mark.parametrize(
    "data", [{"job": "sync"}, {"job": "sync", "source": "nope"}, {"job": "reboot"}, {}]
)
def test_a_job_that_cannot_start_is_refused_plainly(
    client_in: Client, data: dict[str, str]
) -> None:
    response = client_in.post(reverse("curation:job_start"), data, follow=True)
    assert response.status_code == 200 and b'class="error"' in response.content
    assert not SyncRun.objects.exists()


def test_cancel_a_running_sync_and_a_pending_scan(client_in: Client) -> None:
    source = SourceFactory.create(name="stashdb")
    run = SyncRun.objects.create(source=source, status=RunStatus.RUNNING, worker="host:1")
    scan = SceneScan.objects.create()
    done = SyncRun.objects.create(source=source, status=RunStatus.DONE)
    page = client_in.get(reverse("curation:jobs")).content.decode()
    assert f'name="job" value="sync-{run.pk}"' in page
    assert f'name="job" value="sync-{done.pk}"' not in page

    client_in.post(reverse("curation:job_cancel"), {"job": f"sync-{run.pk}"})
    client_in.post(reverse("curation:job_cancel"), {"job": f"scan-{scan.pk}"})
    again = client_in.post(reverse("curation:job_cancel"), {"job": f"sync-{done.pk}"}, follow=True)

    run.refresh_from_db()
    scan.refresh_from_db()
    assert (run.status, run.worker, run.last_error) == ("cancelled", "", "Cancelled by curator.")
    assert scan.status == "failed" and scan.last_error == "Cancelled by curator."
    assert b"That job had already ended." in again.content


def test_a_cancelled_runs_worker_stops_at_its_next_write() -> None:
    source = SourceFactory.create(name="stashdb")
    run = SyncRun.objects.create(source=source)
    assert run_claim(run, "host:1")
    holder = RunHolder(run, "host:1")
    job_cancel(SyncRun, run.pk, status=RunStatus.CANCELLED, reason="stop")
    with pytest.raises(RunLost):
        holder.save_cursor(page=2)


def test_an_incremental_sync_without_a_total_yet_shows_its_count_not_zero_percent(
    client_in: Client,
) -> None:
    source = SourceFactory.create(name="stashdb")
    SyncRun.objects.create(source=source, status=RunStatus.RUNNING, performers_updated=7)

    feed = client_in.get(reverse("curation:jobs_feed")).json()["sync_runs"][0]
    page = client_in.get(reverse("curation:jobs")).content.decode()

    assert feed["progress_known"] is False and feed["seen"] == 7
    assert '<span data-field="progress_text">7 so far</span>' in page
