"""The dashboard in headless Chromium: a curator's real path through it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from curation.models import ReviewItem
from curation.services import identity_resolve_performer
from curation.tests.factories import suspicious_face_item
from performers.models import MergeRecord, Performer
from performers.services import performer_create
from recognition.choices import FaceStatus
from recognition.tests.factories import gallery, identity_centre

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs {CHROMIUM}"),
]


@pytest.fixture
def page(live_server: Any, chromium: Any) -> Any:
    """A Chromium page; `live_server` first, so the browser closes before the server stops."""
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    return page


def _log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/dashboard/")
    assert "/admin/login/" in page.url  # the dashboard sends strangers to the admin login
    page.fill("#id_username", "admin")  # pytest-django's `admin_user`: undoing needs the admin
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/dashboard/")


def test_accept_a_duplicate_with_the_keyboard_then_undo_it_from_admin(
    page: Any, live_server: Any, admin_user: Any
) -> None:
    centre = identity_centre(21)
    kept = performer_create(name="Anna Example")
    merged = performer_create(name="Anna-Example", aliases=["Annie E"])
    gallery(kept, centre, 3, seed=1)
    gallery(merged, centre, 3, seed=2)
    identity_resolve_performer(performer=merged)
    item = ReviewItem.objects.get()
    later, _ = suspicious_face_item(score=0.1)  # next in the queue after the duplicate

    _log_in(page, live_server.url)
    assert page.locator("[data-kind=duplicate] strong").inner_text() == "1"
    page.click(f"a[href^='/dashboard/items/{item.pk}/']")
    page.wait_for_selector("form.decision")
    assert page.locator(".side h2").count() == 2
    assert page.locator(".side .faces img").count() == 6
    assert "Same name and similar faces" in page.locator(".evidence").inner_text()

    page.keyboard.press("j")
    page.wait_for_url(f"**/dashboard/items/{later.pk}/")
    page.keyboard.press("k")
    page.wait_for_url(f"**/dashboard/items/{item.pk}/")
    page.wait_for_selector("form.decision")

    page.keyboard.press("a")
    page.wait_for_url(f"**/dashboard/items/{later.pk}/")  # straight on to the next open item
    message = page.locator(".messages li.success")
    assert "Merged into Anna Example" in message.inner_text()
    message.locator("a").first.click()  # the merged performer in admin
    page.wait_for_selector("#aliases-group")
    assert page.locator("#aliases-group input[value='Annie E']").count() == 1

    page.goto(f"{live_server.url}/admin/performers/mergerecord/")
    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "undo_merge")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "Undid merge" in page.locator(".messagelist").inner_text()

    page.goto(f"{live_server.url}/admin/performers/performer/")
    names = page.locator("#result_list tbody th a").all_inner_texts()
    assert sorted(name for name in names if name.startswith("Anna")) == [
        "Anna Example",
        "Anna-Example",
    ]

    assert Performer.objects.filter(pk__in=[kept.pk, merged.pk]).count() == 2
    assert MergeRecord.objects.get().undone_at is not None


def test_remove_a_suspicious_face_from_the_dashboard(
    page: Any, live_server: Any, admin_user: Any
) -> None:
    item, face = suspicious_face_item()

    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}/dashboard/items/{item.pk}/")
    assert page.locator(".side.suspect img").evaluate("img => img.naturalWidth") > 0
    page.click("button.accept")
    page.wait_for_selector(".messages li.success")
    assert "Removed the face" in page.locator(".messages").inner_text()

    face.refresh_from_db()
    assert face.status == FaceStatus.REMOVED
