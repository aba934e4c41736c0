"""Videos that cannot be used get a clear 4xx (or 504), never a 500 or a hung worker."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from rest_framework.test import APIClient

from performers.models import Performer
from recognition.tests.engine.support import FACES
from recognition.tests.scene_video_fixtures import SceneVideo
from recognition.video import VideoInputError, VideoReader

pytestmark = [pytest.mark.django_db]


def _plain_video(
    path: Path, *, frames: int = 20, size: tuple[int, int] = (64, 48), format: str | None = None
) -> Path:
    with av.open(str(path), mode="w", format=format) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for number in range(frames):
            image = np.full((size[1], size[0], 3), number * 10 % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _audio_only(path: Path) -> Path:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        samples = np.zeros((1, 8000), np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _post(client: APIClient, path: Path, **fields: Any) -> Any:
    with path.open("rb") as video:
        return client.post(
            "/api/v1/identify/scene",
            {"video": video, "mode": "video", **fields},
            format="multipart",
        )


def _truncated(source: Path, destination: Path) -> Path:
    data = source.read_bytes()
    destination.write_bytes(data[: len(data) // 3])
    return destination


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (
            lambda d: (
                (d / "notes.mp4").write_bytes(b"not a video at all\n" * 500) and d / "notes.mp4"
            ),
            "not_a_video",
        ),
        (
            lambda d: (
                d / "photo.jpg"
                if (d / "photo.jpg").write_bytes((FACES / "biden/002.jpg").read_bytes())
                else None
            ),
            "not_a_video",
        ),
        (lambda d: _truncated(_plain_video(d / "whole.mp4"), d / "cut.mp4"), "not_a_video"),
        (lambda d: _audio_only(d / "sound.wav"), "no_video_stream"),
        (lambda d: _raw_stream(d), "zero_duration"),
    ],
    ids=["text", "an-image", "truncated", "audio-only", "no-duration"],
)
def test_a_file_that_is_no_usable_video_gets_a_clear_400(
    api_client: APIClient, enrolled: dict[str, Performer], tmp_path: Path, make: Any, code: str
) -> None:
    response = _post(api_client, make(tmp_path))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"].startswith("video: ")


def _raw_stream(folder: Path) -> Path:
    """A bare H.264 stream: pictures, but no container to say how long it lasts."""
    return _plain_video(folder / "bare.h264", frames=5, format="h264")


def test_a_video_without_duration_is_refused_by_the_reader(tmp_path: Path) -> None:
    with pytest.raises(VideoInputError) as raised:
        VideoReader(_raw_stream(tmp_path))
    assert raised.value.code == "zero_duration"


def test_a_video_over_the_decoded_pixel_limit_is_refused_before_decoding(
    api_client: APIClient, enrolled: dict[str, Performer], tmp_path: Path, settings: Any
) -> None:
    settings.STASHSENSE_MAX_VIDEO_PIXELS = 64 * 48 - 1
    response = _post(api_client, _plain_video(tmp_path / "big.mp4"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "video_too_large"
    assert "64x48" in response.json()["error"]["message"]


def test_decoding_past_the_time_limit_is_a_504(
    api_client: APIClient, enrolled: dict[str, Performer], tmp_path: Path, settings: Any
) -> None:
    settings.STASHSENSE_VIDEO_DECODE_SECONDS = 0
    response = _post(api_client, _plain_video(tmp_path / "slow.mp4"))
    assert response.status_code == 504
    assert "STASHSENSE_VIDEO_DECODE_SECONDS" in response.json()["error"]["message"]


def test_a_body_announced_over_the_video_limit_is_refused_with_413(
    api_client: APIClient, enrolled: dict[str, Performer], settings: Any, tmp_path: Path
) -> None:
    settings.STASHSENSE_MAX_VIDEO_BYTES = 1000
    response = _post(api_client, _plain_video(tmp_path / "v.mp4", frames=200, size=(320, 240)))
    assert response.status_code == 413
    assert "STASHSENSE_MAX_VIDEO_BYTES" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"frames": "4"}, "5 to 240"),
        ({"frames": "241"}, "5 to 240"),
        ({"mode": "everything"}, "`mode` must be"),
    ],
    ids=["too-few-frames", "too-many-frames", "unknown-mode"],
)
def test_bad_frame_counts_and_modes_get_a_clear_400(
    api_client: APIClient,
    enrolled: dict[str, Performer],
    tmp_path: Path,
    fields: dict[str, str],
    message: str,
) -> None:
    response = _post(api_client, _plain_video(tmp_path / "v.mp4"), **fields)
    assert response.status_code == 400 and message in response.json()["error"]["message"]


def test_mode_video_without_a_video_says_what_to_send(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    response = api_client.post("/api/v1/identify/scene", {"mode": "video"}, format="json")
    assert response.status_code == 400 and "needs a video" in response.json()["error"]["message"]


def test_mode_auto_without_a_video_reads_the_sprite_alone(
    api_client: APIClient, enrolled: dict[str, Performer], small_faces_scene: SceneVideo
) -> None:
    response = api_client.post(
        "/api/v1/identify/scene",
        {
            "sprite_base64": base64.b64encode(small_faces_scene.sprite).decode(),
            "vtt": small_faces_scene.vtt,
            "mode": "auto",
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["mode"] == "sprite" and response.json()["video_frames"] == 0


def test_mode_sprite_with_only_a_video_is_a_clear_422(
    api_client: APIClient, enrolled: dict[str, Performer], small_faces_scene: SceneVideo
) -> None:
    response = _post(api_client, small_faces_scene.video, mode="sprite")
    assert response.status_code == 422 and "sprite" in response.json()["error"]["message"]
