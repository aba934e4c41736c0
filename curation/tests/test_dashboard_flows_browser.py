"""The curation issue's dashboard points in headless Chromium, as a curator goes through them:
the queue (7), merges elsewhere (8), shortcuts on radios (10), face galleries (11), and every
page dark, at phone width, accessible and light (13). Screenshots: see browser_checks."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from curation.choices import ReviewStatus
from curation.models import ReviewItem
from curation.services import review_item_skip
from curation.tests.browser_checks import (
    PAGE_BUDGET_BYTES,
    PageWeight,
    screenshot,
    serious_violations,
)
from curation.tests.factories import (
    DuplicateItemFactory,
    LowConfidenceItemFactory,
    SuspiciousFaceItemFactory,
)
from performers.models import MergeRecord, Performer
from performers.services import StashIdInput, performer_create, performer_merge
from performers.tests.factories import STASHDB, SourceFactory
from recognition.choices import FaceStatus
from recognition.models import Face
from recognition.tests.factories import FaceFactory
from scraping.choices import RunStatus
from scraping.models import SyncRun
from stash.models import SceneSuggestion

CHROMIUM = Path("/usr/bin/chromium")
TPDB = "https://api.theporndb.net/graphql"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs {CHROMIUM}"),
]


@pytest.fixture
def page(live_server: Any, admin_user: Any, chromium: Any) -> Any:
    """A logged-in Chromium page (pytest-django's `admin_user`: the admin's undo needs it)."""
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/dashboard/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    return page


def _bill_simon_pair(score: float = 0.9) -> ReviewItem:
    stashdb = SourceFactory.create(name="StashDB", url=STASHDB)
    tpdb = SourceFactory.create(name="ThePornDB", url=TPDB)
    a = performer_create(name="Bill Simon", stash_ids=[StashIdInput(STASHDB, "b1")])
    b = performer_create(name="Bill Simon", stash_ids=[StashIdInput(TPDB, "b2")])
    a.stash_ids.update(source=stashdb)
    b.stash_ids.update(source=tpdb)
    for performer in (a, b):
        FaceFactory.create_batch(2, performer=performer)
    return DuplicateItemFactory.create(performer_a=a, performer_b=b, score=score)


def _statuses() -> dict[int, str]:
    return dict(ReviewItem.objects.values_list("pk", "status"))


def test_the_queue_shows_faces_and_sources_and_acts_in_bulk(
    page: Any, live_server: Any, admin_user: Any
) -> None:
    bill = _bill_simon_pair(score=0.95)
    ticked = SuspiciousFaceItemFactory.create(score=0.9)
    high = DuplicateItemFactory.create(score=0.8)
    low = DuplicateItemFactory.create(score=0.3)
    skipped = DuplicateItemFactory.create(score=0.5)
    review_item_skip(item=skipped, user=admin_user)
    decided = DuplicateItemFactory.create(score=0.99, status=ReviewStatus.REJECTED)

    page.reload()
    row = page.locator(f"tr[data-item='{bill.pk}']")
    assert "Bill Simon (StashDB) ↔ Bill Simon (ThePornDB)" in row.inner_text()
    widths = row.locator("img").evaluate_all(
        "images => Promise.all(images.map(i => i.decode().then(() => i.naturalWidth, () => 0)))"
    )
    assert len(widths) == 2 and min(widths) > 0  # each side's best face, loaded
    assert page.locator(f"tr[data-item='{skipped.pk}']").inner_text().count("Skipped") == 1
    assert page.locator(f"tr[data-item='{decided.pk}']").count() == 0
    screenshot(page, "queue")

    page.select_option("#id_status", "all")  # no Filter button to press
    page.wait_for_url("**/dashboard/?status=all")
    assert page.locator(f"tr[data-item='{decided.pk}']").count() == 1
    page.select_option("#id_status", "")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.wait_for_selector(f"tr[data-item='{bill.pk}']")

    page.check(f"tr[data-item='{ticked.pk}'] input[name=items]")
    page.click("button[value=accept_selected]")
    page.wait_for_selector(".messages li.success")
    assert "Accepted 1 of 1" in page.locator(".messages").inner_text()
    assert Face.objects.filter(review_items=ticked).get().status == FaceStatus.REMOVED

    page.fill("#bulk-min-score", "0.7")
    page.click("button[value=reject_above]")
    page.wait_for_selector(".messages li.success")
    assert "Rejected 2 of 2" in page.locator(".messages").inner_text()
    statuses = _statuses()
    assert statuses[bill.pk] == statuses[high.pk] == ReviewStatus.REJECTED
    assert statuses[low.pk] == ReviewStatus.OPEN and statuses[skipped.pk] == ReviewStatus.SKIPPED
    screenshot(page, "queue-after-bulk")


def test_opening_claims_nothing_and_skip_keeps_the_item_in_the_queue(
    page: Any, live_server: Any
) -> None:
    item = DuplicateItemFactory.create(score=0.9)
    page.goto(f"{live_server.url}/dashboard/items/{item.pk}/")
    page.wait_for_selector("form.decision")
    assert _statuses()[item.pk] == ReviewStatus.OPEN

    page.keyboard.press("s")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert _statuses()[item.pk] == ReviewStatus.SKIPPED
    assert "Skipped" in page.locator(f"tr[data-item='{item.pk}']").inner_text()


def test_shortcuts_work_while_a_radio_or_checkbox_has_focus(page: Any, live_server: Any) -> None:
    item = DuplicateItemFactory.create()
    assert item.performer_a is not None and item.performer_b is not None
    merged, kept = item.performer_a, item.performer_b
    page.goto(f"{live_server.url}/dashboard/items/{item.pk}/")
    page.check(f"input[name=keep][value='{kept.pk}']")  # focus now on the radio
    assert page.evaluate("document.activeElement.type") == "radio"

    page.keyboard.press("a")
    page.wait_for_selector(".messages li.success")

    assert "Merged into" in page.locator(".messages").inner_text()
    assert Performer.objects.filter(pk=kept.pk).exists()
    assert not Performer.objects.filter(pk=merged.pk).exists()

    other = DuplicateItemFactory.create()
    page.goto(f"{live_server.url}/dashboard/")
    page.focus(f"tr[data-item='{other.pk}'] input[name=items]")
    page.keyboard.press("j")  # no shortcut on the queue: nothing happens, nothing breaks
    page.goto(f"{live_server.url}/dashboard/items/{other.pk}/")
    page.focus("input[name=keep]")
    page.keyboard.press("r")
    page.wait_for_selector(".messages li.success")
    assert _statuses()[other.pk] == ReviewStatus.REJECTED


def test_an_admin_merge_and_its_undo_keep_the_item_true(page: Any, live_server: Any) -> None:
    item = DuplicateItemFactory.create()
    assert item.performer_a is not None and item.performer_b is not None
    a, b = item.performer_a, item.performer_b
    kept = performer_create(name="Zed Kept")

    page.goto(f"{live_server.url}/admin/performers/performer/")
    page.check(f"input[name=_selected_action][value='{a.pk}']")
    page.check(f"input[name=_selected_action][value='{kept.pk}']")
    page.select_option("select[name=action]", "merge_selected")
    page.click("button[name=index]")
    page.select_option("#id_target", str(kept.pk))
    page.click("input[value=Merge]")
    page.wait_for_selector(".messagelist")

    page.goto(f"{live_server.url}/dashboard/items/{item.pk}/")
    sides = page.locator(".side h2").all_inner_texts()
    assert sides == ["Zed Kept", b.name] and "no longer exists" not in page.content()
    screenshot(page, "item-after-admin-merge")

    record = MergeRecord.objects.get()
    page.goto(f"{live_server.url}/admin/performers/mergerecord/{record.pk}/change/")
    assert a.name in page.locator("#content-main").inner_text()
    screenshot(page, "merge-record")
    page.click("text=Undo this merge")
    page.wait_for_selector(".messagelist")
    assert "Undid merge" in page.locator(".messagelist").inner_text()

    page.goto(f"{live_server.url}/dashboard/items/{item.pk}/")
    assert page.locator(".side h2").all_inner_texts() == [a.name, b.name]


def test_a_face_gallery_moves_removes_restores_and_merges(page: Any, live_server: Any) -> None:
    anna = performer_create(name="Anna Example")
    annie = performer_create(name="Annie Sample")
    anna_faces = FaceFactory.create_batch(3, performer=anna)
    FaceFactory.create_batch(2, performer=annie)
    stray = anna_faces[0]

    page.goto(f"{live_server.url}/admin/performers/performer/{anna.pk}/change/")
    assert page.locator(".face-strip img").count() == 3  # the admin page shows faces now
    page.click("text=Face gallery")
    page.wait_for_selector(".face-grid")
    assert page.locator(".face-grid li.face").count() == 3
    assert "Quality" in page.locator(f"li[data-face='{stray.pk}']").inner_text()

    page.click(f"button[value='remove:{stray.pk}']")
    page.wait_for_selector(f"li.face-removed[data-face='{stray.pk}']")
    page.click(f"button[value='restore:{stray.pk}']")
    page.wait_for_selector(f"li.face-active[data-face='{stray.pk}']")

    page.fill("#compare-q", "annie")
    page.press("#compare-q", "Enter")
    page.click(f".found a[href*='compare={annie.pk}']")
    page.wait_for_selector(".galleries.two")
    assert page.locator(".gallery").count() == 2
    screenshot(page, "gallery-compare")

    page.click(f"button[value='move:{stray.pk}']")
    page.wait_for_selector(f"section[data-performer='{annie.pk}'] li[data-face='{stray.pk}']")
    stray.refresh_from_db()
    assert stray.performer_id == annie.pk

    page.check(f"input[name=keep][value='{annie.pk}']")
    page.click(".merge button.accept")
    page.wait_for_selector(".messages li.success")
    assert "Merged Anna Example into Annie Sample" in page.locator(".messages").inner_text()
    assert Face.objects.filter(performer=annie).count() == 5


def _every_page(base: str) -> dict[str, str]:
    bill = _bill_simon_pair()
    face_item = SuspiciousFaceItemFactory.create()
    unsure = LowConfidenceItemFactory.create(
        payload={"scene_id": "7", "person": 0, "candidates": [{"performer_id": "x", "name": "X"}]}
    )
    assert bill.performer_a is not None and bill.performer_b is not None
    a, b = bill.performer_a.pk, bill.performer_b.pk
    return {
        "queue": f"{base}/dashboard/",
        "duplicate": f"{base}/dashboard/items/{bill.pk}/",
        "suspicious-face": f"{base}/dashboard/items/{face_item.pk}/",
        "low-confidence": f"{base}/dashboard/items/{unsure.pk}/",
        "performers": f"{base}/dashboard/performers/?q=bill",
        "gallery": f"{base}/dashboard/performers/{a}/",
        "compare": f"{base}/dashboard/performers/{a}/?compare={b}",
        "jobs": f"{base}/dashboard/jobs/",
        "quality": f"{base}/dashboard/quality/",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_is_accessible_light_and_fits_a_phone(
    page: Any, live_server: Any, scheme: str
) -> None:
    pages = _every_page(live_server.url)
    page.emulate_media(color_scheme=scheme)
    weight = PageWeight(page, live_server.url)
    problems: dict[str, Any] = {}
    for name, url in pages.items():
        weight.reset()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(url, wait_until="networkidle")
        print(f"page weight {name} ({scheme}): {weight.total} bytes")
        if weight.total >= PAGE_BUDGET_BYTES:
            problems[f"{name} weight"] = weight.total
        found = serious_violations(page)
        if found:
            problems[f"{name} axe"] = found
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        if (background == "rgb(24, 32, 41)") != (scheme == "dark"):
            problems[f"{name} background"] = background
        screenshot(page, f"{name}-{scheme}")
        page.set_viewport_size({"width": 375, "height": 800})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems[f"{name} phone overflow px"] = overflow
        screenshot(page, f"{name}-{scheme}-phone")
    assert problems == {}


def test_a_low_confidence_item_is_named_after_a_search(
    page: Any, live_server: Any, settings: Any
) -> None:
    settings.STASH_URL = "http://stash.local:9999"
    wrong = performer_create(name="Wrong Guess")
    FaceFactory.create(performer=wrong)
    right = performer_create(name="Right Person")
    FaceFactory.create(performer=right)
    jpeg = FaceFactory.build().crop
    item = LowConfidenceItemFactory.create(
        payload={
            "scene_id": "31",
            "person": 0,
            "thumbnail": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),
            "decision": "reject",
            "rejected_performer_id": str(wrong.pk),
            "rejected_name": "Wrong Guess",
            "candidates": [{"performer_id": str(wrong.pk), "name": "Wrong Guess"}],
        }
    )

    page.goto(f"{live_server.url}/dashboard/items/{item.pk}/")
    assert "Person 1 of scene 31" in page.locator(".question").inner_text()
    assert page.get_attribute("text=Open the scene in Stash", "href") == (
        "http://stash.local:9999/scenes/31"
    )
    assert "not Wrong Guess" in page.locator(".user-decision").inner_text()
    assert not page.is_checked(f"input[value='{wrong.pk}']")  # the user's "no" is not preselected
    widths = page.locator(".side img").evaluate_all("images => images.map(i => i.naturalWidth)")
    assert len(widths) == 2 and min(widths) > 0  # the scene face beside the candidate's face

    page.fill("#someone-else", "right")
    page.press("#someone-else", "Enter")
    page.check(f"input[name=candidate][value='{right.pk}']")
    screenshot(page, "low-confidence-search")
    page.keyboard.press("a")
    page.wait_for_selector(".messages li.success")

    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED and item.resolution["name"] == "Right Person"


def test_jobs_start_from_the_page_and_new_ones_appear_without_a_reload(
    page: Any, live_server: Any
) -> None:
    source = SourceFactory.create(name="stashdb")
    page.goto(f"{live_server.url}/dashboard/jobs/")
    page.click("text=Start the sync")
    page.wait_for_selector(".messages li.success")
    started = SyncRun.objects.get(source=source)
    page.wait_for_selector(f"tr[data-job='sync-{started.pk}']")

    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    later = SyncRun.objects.create(source=source, status=RunStatus.RUNNING, total=200)
    row = page.wait_for_selector(f"tr[data-job='sync-{later.pk}']", timeout=20_000)
    assert row is not None and "Running" in row.inner_text()
    SyncRun.objects.filter(pk=later.pk).update(performers_new=80)  # 80 of 200
    page.wait_for_function(
        f"document.querySelector(\"tr[data-job='sync-{later.pk}'] [data-field=progress_text]\")"
        ".textContent === '40%'",
        timeout=20_000,
    )
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "jobs-live")

    page.click(f"tr[data-job='sync-{later.pk}'] button:text('Cancel')")  # added by the poll
    page.wait_for_selector(".messages li.success")
    later.refresh_from_db()
    assert later.status == RunStatus.CANCELLED
    assert page.locator(f"tr[data-job='sync-{later.pk}'] [data-cancel] form").count() == 0


def test_the_admin_pages_this_work_changed_are_accessible(page: Any, live_server: Any) -> None:
    """Whole pages, except the performer's: Django's stock tabular inlines (stash IDs, aliases)
    carry no labels, so only what this work added there is checked."""
    item = _bill_simon_pair()
    assert item.performer_a is not None and item.performer_b is not None
    performer = item.performer_a
    record = performer_merge(sources=[item.performer_b], target=performer, actor="admin")
    suggestion = SceneSuggestion.objects.create(
        stash_scene_id="31", persons=1, result={"persons": [{"appearances": 3, "matches": []}]}
    )
    base = f"{live_server.url}/admin"
    pages = {
        "admin-performer": f"{base}/performers/performer/{performer.pk}/change/#.face-strip",
        "admin-merge-record": f"{base}/performers/mergerecord/{record.pk}/change/",
        "admin-suggestion": f"{base}/stash/scenesuggestion/{suggestion.pk}/change/",
        "admin-review-item": f"{base}/curation/reviewitem/{item.pk}/change/",
    }
    problems = {}
    for name, address in pages.items():
        url, _, within = address.partition("#")
        page.goto(url)
        found = serious_violations(page, within)
        if found:
            problems[name] = found
        screenshot(page, name)
    assert problems == {}
