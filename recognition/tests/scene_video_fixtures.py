"""Scene videos made in the tests from ../shared/faces photos (PyAV, H.264), once a session.

`small_faces_scene`: 1280x720, 20 s, faces ~110 px tall (13-14 px in a Stash sprite tile):
two gallery people (kit_harington, biden; their probe photos, not the gallery's) and a
co-star who is not enrolled (deepface_p05).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from recognition.benchmarks.scene_videos import (
    SceneVideoSpec,
    head_crop,
    scene_video_write,
    stash_sprite_of_video,
)
from recognition.tests.engine.support import FACES, default_profile_or_skip

CAST_IN_GALLERY = {"kit_harington": "kit_harington/003.jpg", "biden": "biden/002.jpg"}
CO_STAR = "deepface_p05/005.jpg"  # not in the `enrolled` gallery


@dataclass(frozen=True)
class SceneVideo:
    video: Path
    sprite: bytes
    vtt: str


@pytest.fixture(scope="session")
def small_faces_scene(tmp_path_factory: pytest.TempPathFactory) -> SceneVideo:
    if not FACES.is_dir():
        pytest.skip(f"{FACES} is not present")
    profile = default_profile_or_skip()
    photos = [*CAST_IN_GALLERY.values(), CO_STAR]
    heads = [head_crop(profile, FACES / photo, face_height=110) for photo in photos]
    folder = tmp_path_factory.mktemp("scene-video")
    video = scene_video_write(folder / "scene.mp4", heads, SceneVideoSpec(seconds=20, fps=10))
    sprite, vtt = stash_sprite_of_video(video)
    return SceneVideo(video=video, sprite=sprite, vtt=vtt)
