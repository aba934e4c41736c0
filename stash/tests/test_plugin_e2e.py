"""The plugin end to end: a fake Stash page in headless Chromium, the real service behind it.

FakeStash serves the plugin's test page (a stand-in for Stash's scene page) with the plugin as
`manage.py stash_plugin` writes it for the live server's address, and the stills sprite as the
scene's generated preview. The service (pytest-django's live server, real models, the
`enrolled` gallery) fetches that sprite from the fake through STASH_URL, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes.stash_server import FakePerformer, FakeStash
from performers.models import Performer
from recognition.choices import FaceOrigin
from recognition.models import Face
from recognition.tests.engine.support import REPO_ROOT
from recognition.tests.gallery_fixtures import STASHDB
from stash.models import SceneSuggestion
from stash.plugin_files import render_plugin, service_origin
from stash.tests.stash_scenes import STASH_API_KEY, needs_stash_fixtures, stills_scene

CHROMIUM = Path("/usr/bin/chromium")
SESSION = "browser-session"
# Identification of 25 tiles on a busy 2-core machine: allow for it.
IDENTIFY_TIMEOUT_MS = 180_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.models,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs {CHROMIUM}"),
]


@pytest.fixture
def fake_stash(
    live_server: Any, settings: Any, api_key: str, tmp_path: Path
) -> Iterator[FakeStash]:
    """Stash with scene 1 (the stills sprite, cast: performer 9) and a local Carmen Electra."""
    needs_stash_fixtures()
    service = live_server.url
    render_plugin(tmp_path, service)
    fake = FakeStash(
        scenes=[stills_scene("1", performer_ids=["9"])],
        performers=[
            FakePerformer("9", "Already Cast"),
            FakePerformer("5", "Carmen Electra", stash_ids=[(STASHDB, "stash-Carmen_Electra")]),
        ],
        plugins={"stash-sense": {"serviceUrl": service, "apiKey": api_key, "minConfidence": 50}},
        api_key=STASH_API_KEY,
        session_cookie=SESSION,
        page=REPO_ROOT / "plugin" / "tests" / "e2e_page.html",
        static_dirs={
            "/e2e/": REPO_ROOT / "plugin" / "tests" / "e2e",
            "/plugin/stash-sense/": tmp_path / "stash-sense",
        },
        page_connect_src=[service_origin(service)],
    )
    with fake:
        settings.STASH_URL = fake.url
        settings.STASH_API_KEY = STASH_API_KEY
        settings.CORS_ALLOWED_ORIGINS = [fake.url]
        yield fake


@pytest.fixture
def page(fake_stash: FakeStash, chromium: Any) -> Any:
    """A logged-in Chromium page on the fake Stash."""
    context = chromium.new_context()
    context.add_cookies([{"name": "session", "value": SESSION, "url": fake_stash.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _sprite_downloads(stash: FakeStash) -> int:
    return stash.request_count("/scene/1/sprite", method="GET")


def test_identify_then_add_to_scene_adds_the_performer_with_mode_add(
    page: Any, fake_stash: FakeStash, enrolled: dict[str, Performer]
) -> None:
    page.goto(f"{fake_stash.url}/scenes/1")
    page.click("button.ss-identify")
    page.wait_for_selector(".ss-summary", timeout=IDENTIFY_TIMEOUT_MS)
    assert page.locator(".ss-error").count() == 0
    assert page.locator(".ss-saved").count() == 0  # nothing was stored before: identified now
    assert page.locator("button.ss-identify").inner_text() == "Re-run"

    carmen = page.locator("li.ss-candidate", has_text="Carmen Electra")
    carmen.locator("button.ss-add").click()  # shown once Stash's performer 5 is found
    carmen.locator(".ss-done").wait_for()

    assert carmen.locator(".ss-done").inner_text() == "Added to scene"
    assert carmen.locator(".ss-warning").count() == 0  # the confirmation reached the service
    [added] = fake_stash.mutations_of("bulkSceneUpdate")
    assert added.arguments["input"]["ids"] == ["1"]
    assert added.arguments["input"]["performer_ids"] == {"ids": ["5"], "mode": "ADD"}
    assert not fake_stash.mutations_of("sceneUpdate")
    assert fake_stash.scenes["1"].performer_ids == ["9", "5"]
    assert page.evaluate("window.__e2e.errors") == []
    carmen_faces = Face.objects.filter(performer=enrolled["Carmen_Electra"])
    assert carmen_faces.filter(origin=FaceOrigin.FEEDBACK).count() == 1
    assert SceneSuggestion.objects.filter(stash_scene_id="1").exists()

    # Back on the scene later: the stored result shows without running the models again.
    downloads = _sprite_downloads(fake_stash)
    page.reload()
    page.click("button.ss-identify")
    page.wait_for_selector(".ss-saved")
    assert "Saved result from" in page.locator(".ss-saved").inner_text()
    assert page.locator("li.ss-candidate", has_text="Carmen Electra").count() == 1
    assert _sprite_downloads(fake_stash) == downloads
