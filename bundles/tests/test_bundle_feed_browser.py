"""The gallery update in headless Chromium: a curator sees the newer bundle and applies it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bundles.tests.test_bundle_feed import (
    Published,
    _install_first_bundle,
    _state,
    feed_server,
    published,
)
from bundles.tests.test_bundle_support import bundle_env
from fakes import FakeBundleFeed
from stashsense.celery import app as celery_app

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs {CHROMIUM}"),
]
__all__ = ["bundle_env", "feed_server", "published"]


@pytest.fixture
def eager_tasks() -> Any:
    """Tasks the page queues run in the server's thread (no worker in this test)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def test_a_curator_updates_the_gallery_from_the_dashboard(
    published: Published,
    feed_server: FakeBundleFeed,
    live_server: Any,
    admin_user: Any,
    eager_tasks: None,
    chromium: Any,
) -> None:
    _install_first_bundle(published)
    page = chromium.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/dashboard/jobs/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/jobs/")
    assert "Feed last checked: not yet" in page.locator(".gallery-update").inner_text()

    page.click(".gallery-update button[type=submit]")

    page.wait_for_url(f"{live_server.url}/dashboard/jobs/")
    assert "Gallery update started" in page.locator(".messages li.success").inner_text()
    section = page.locator(".gallery-update").inner_text()
    assert f"Installed bundle: {published.exports[2].version}" in section
    assert _state() == published.states[2]
    page.close()
