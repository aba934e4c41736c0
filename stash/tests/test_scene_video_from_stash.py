"""`POST /identify/scene` with a `stash_scene_id`: the video streamed from Stash with HTTP Range
(ApiKey header), its screenshot and sprite, and Stash's failures answered clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from fakes.stash_server import FakeScene, FakeStash
from performers.models import Performer
from recognition.tests.scene_video_fixtures import CAST_IN_GALLERY, SceneVideo
from stash.choices import SceneScanStatus
from stash.library_scans import scene_scan_create, scene_scan_execute
from stash.models import SceneSuggestion
from stash.tests import stash_scenes
from stash.tests.stash_scenes import STASH_API_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.models]
CAST = sorted(identity.replace("_", " ") for identity in CAST_IN_GALLERY)
SCENE = "7"
STREAM = f"/scene/{SCENE}/stream"
stash_configured = stash_scenes.stash  # the fake Stash the service is configured to use


def _stash(request: pytest.FixtureRequest) -> FakeStash:
    fake: FakeStash = request.getfixturevalue("stash_configured")
    return fake


@pytest.fixture
def video_scene(
    request: pytest.FixtureRequest, small_faces_scene: SceneVideo, tmp_path: Path
) -> FakeStash:
    stash = _stash(request)
    sprite, vtt = tmp_path / "scene_sprite.jpg", tmp_path / "scene_thumbs.vtt"
    sprite.write_bytes(small_faces_scene.sprite)
    vtt.write_text(small_faces_scene.vtt)
    stash.add_scene(FakeScene(SCENE, sprite=sprite, vtt=vtt, video=small_faces_scene.video))
    return stash


def _identify(client: APIClient, **body: Any) -> Any:
    return client.post("/api/v1/identify/scene", {"stash_scene_id": SCENE, **body}, format="json")


def _named(body: dict[str, Any]) -> list[str]:
    return sorted(p["matches"][0]["performer"]["name"] for p in body["persons"] if p["matches"])


def test_a_stash_scene_is_read_from_its_stream_in_ranges_and_names_its_cast(
    api_client: APIClient, enrolled: dict[str, Performer], video_scene: FakeStash
) -> None:
    response = _identify(api_client, frames=24)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "auto" and body["video_frames"] >= 8
    assert _named(body) == CAST
    streamed = video_scene.requests_to(STREAM)
    assert streamed and all(r.headers.get("apikey") == STASH_API_KEY for r in streamed)
    assert all(r.headers.get("range", "").startswith("bytes=") for r in streamed)
    assert video_scene.request_count(f"/scene/{SCENE}/sprite") == 1


def test_mode_video_reads_no_sprite(
    api_client: APIClient, enrolled: dict[str, Performer], video_scene: FakeStash
) -> None:
    response = _identify(api_client, mode="video", frames=10)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "video" and body["video_frames"] == 10
    assert video_scene.request_count(f"/scene/{SCENE}/sprite") == 0
    assert _named(body) == CAST


def test_mode_sprite_reads_no_video(
    api_client: APIClient, enrolled: dict[str, Performer], video_scene: FakeStash
) -> None:
    response = _identify(api_client, mode="sprite")
    assert response.status_code == 200 and response.json()["mode"] == "sprite"
    assert video_scene.request_count(STREAM) == 0


def test_a_scene_without_a_video_file_in_mode_video_is_a_clear_422(
    api_client: APIClient, enrolled: dict[str, Performer], request: pytest.FixtureRequest
) -> None:
    _stash(request).add_scene(FakeScene(SCENE))
    response = _identify(api_client, mode="video")
    assert response.status_code == 422 and response.json()["error"]["code"] == "no_video"


@pytest.mark.parametrize(
    ("status", "answer", "code"),
    [(401, 502, "stash_auth"), (500, 502, "stash_unreachable")],
    ids=["refused-key", "server-error"],
)
def test_stash_failing_on_the_stream_is_a_clear_502(
    api_client: APIClient,
    enrolled: dict[str, Performer],
    video_scene: FakeStash,
    status: int,
    answer: int,
    code: str,
) -> None:
    video_scene.fail_next(1, status=status, path=STREAM)
    response = _identify(api_client, mode="video", frames=5)
    assert response.status_code == answer, response.content
    assert response.json()["error"]["code"] == code


def test_a_stream_that_stalls_is_a_504_within_the_time_limit(
    api_client: APIClient, enrolled: dict[str, Performer], video_scene: FakeStash, settings: Any
) -> None:
    settings.STASHSENSE_VIDEO_DECODE_SECONDS = 1
    video_scene.slow_next(1, seconds=3, path=STREAM)
    response = _identify(api_client, mode="video", frames=5)
    assert response.status_code == 504, response.content
    assert response.json()["error"]["code"] == "stash_timeout"


def test_a_library_scan_in_video_mode_reads_the_streams_and_skips_scenes_without_video(
    enrolled: dict[str, Performer], video_scene: FakeStash
) -> None:
    video_scene.add_scene(FakeScene("8"))  # no video file, no sprite
    scan = scene_scan_execute(scan=scene_scan_create(mode="video"))
    assert scan.status == SceneScanStatus.DONE
    assert (scan.identified, scan.skipped, scan.errors) == (1, 1, 0)
    assert scan.skip_reasons == {"no video file in Stash": 1}
    stored = SceneSuggestion.objects.get(stash_scene_id=SCENE).result
    assert stored["mode"] == "video" and stored["video_frames"] == 60
    assert _named(stored) == CAST


def test_scan_library_refuses_an_unknown_mode() -> None:
    with pytest.raises(CommandError):
        call_command("scan_library", "--mode", "everything")
