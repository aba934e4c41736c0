"""A scene identified from its video: the API's `video` upload, `mode`, `frames`, the CLI."""

from __future__ import annotations

import base64
import json
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from performers.models import Performer
from recognition.tests.scene_video_fixtures import CAST_IN_GALLERY, SceneVideo

pytestmark = [pytest.mark.django_db, pytest.mark.models]


CAST = sorted(identity.replace("_", " ") for identity in CAST_IN_GALLERY)


def _named(body: dict[str, Any]) -> list[str]:
    return sorted(p["matches"][0]["performer"]["name"] for p in body["persons"] if p["matches"])


def _post_video(client: APIClient, scene: SceneVideo, **fields: Any) -> Any:
    with scene.video.open("rb") as video:
        return client.post("/api/v1/identify/scene", {"video": video, **fields}, format="multipart")


def test_video_frames_name_the_cast_the_sprite_misses_and_nobody_else(
    api_client: APIClient, enrolled: dict[str, Performer], small_faces_scene: SceneVideo
) -> None:
    sprite = api_client.post(
        "/api/v1/identify/scene",
        {"sprite_base64": _b64(small_faces_scene.sprite), "vtt": small_faces_scene.vtt},
        format="json",
    )
    assert sprite.status_code == 200
    # 110 px faces are 13-14 px in a 160 px tile: the sprite names no one.
    assert _named(sprite.json()) == []
    video = _post_video(api_client, small_faces_scene, mode="video", frames="20")
    assert video.status_code == 200, video.content
    body = video.json()
    assert body["mode"] == "video" and body["video_frames"] == 20 and body["frames"] == 20
    assert _named(body) == CAST  # the co-star stays unnamed
    assert body["duration"] == pytest.approx(20.0, abs=0.2)


def test_video_frames_carry_their_real_times_and_persons_time_ranges(
    api_client: APIClient, enrolled: dict[str, Performer], small_faces_scene: SceneVideo
) -> None:
    body = _post_video(api_client, small_faces_scene, mode="video", frames="10").json()
    starts = sorted({f["start"] for p in body["persons"] for f in p["frames"]})
    # 10 samples over 5-95 % of 20 s: 1.0 s to 19.0 s, each a real frame time (10 fps).
    assert starts[0] >= 0.0 and starts[-1] <= 19.0 and len(starts) >= 8
    assert all(round(s * 10, 3) == round(s * 10) for s in starts)
    named = next(p for p in body["persons"] if p["matches"])
    assert named["time_ranges"] and named["time_ranges"][0]["start"] <= named["frames"][0]["start"]
    assert named["time_ranges"][-1]["end"] >= max(f["start"] for f in named["frames"])


def test_auto_reads_the_sprite_then_the_video_and_names_the_same_cast(
    api_client: APIClient, enrolled: dict[str, Performer], small_faces_scene: SceneVideo
) -> None:
    with small_faces_scene.video.open("rb") as video:
        response = api_client.post(
            "/api/v1/identify/scene",
            {
                "video": video,
                "sprite": _upload(small_faces_scene.sprite),
                "vtt": small_faces_scene.vtt,
                "frames": "24",
            },
            format="multipart",
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "auto"
    assert body["frames"] == 81 + body["video_frames"] and 8 <= body["video_frames"] <= 24
    assert _named(body) == CAST


def test_identify_command_prints_the_body_the_api_answers_for_a_video(
    api_client: APIClient, enrolled: dict[str, Performer], small_faces_scene: SceneVideo
) -> None:
    answered = _post_video(api_client, small_faces_scene, mode="video", frames="12").json()
    out = StringIO()
    call_command("identify", str(small_faces_scene.video), "--frames", "12", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    del printed["timings_ms"], answered["timings_ms"]
    assert printed == answered and _named(printed) == CAST


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("scene_sprite.jpg", data, content_type="image/jpeg")
