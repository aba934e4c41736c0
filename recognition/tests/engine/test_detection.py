from __future__ import annotations

import numpy as np
import pytest

from recognition.engine import Detection, Profile
from recognition.engine.detector import primary_face_index
from recognition.tests.engine.support import FACES, faces_or_skip, read_bgr


def nearest_identity(embedding: np.ndarray, gallery: dict[str, np.ndarray]) -> str:
    return min(gallery, key=lambda name: float(np.linalg.norm(gallery[name] - embedding)))


@pytest.mark.models
def test_detect_finds_obama_and_biden_as_the_two_largest_faces_of_the_group_photo(
    default_profile: Profile,
) -> None:
    faces = faces_or_skip(FACES)
    gallery = {
        name: default_profile.analyze(read_bgr(faces / name / "001.jpg"), max_faces=1)[0].embedding
        for name in ("obama", "biden")
    }
    image = read_bgr(faces / "_group" / "004.jpg")

    detections = default_profile.detect(image)
    analyzed = default_profile.analyze(image, max_faces=2)

    assert len(detections) >= 2
    assert all(0.5 <= detection.score <= 1.0 for detection in detections)
    assert len(analyzed) == 2
    names = {nearest_identity(face.embedding, gallery) for face in analyzed}
    assert names == {"obama", "biden"}
    for face in analyzed:
        box = face.detection
        assert 0 <= box.x1 < box.x2 <= image.shape[1]
        assert 0 <= box.y1 < box.y2 <= image.shape[0]
        assert box.size > 100


@pytest.mark.models
def test_detect_finds_a_single_face_in_a_portrait_with_landmarks_inside_its_box(
    default_profile: Profile,
) -> None:
    image = read_bgr(faces_or_skip(FACES) / "obama" / "001.jpg")

    detections = default_profile.detect(image)

    assert len(detections) == 1
    face = detections[0]
    points = face.landmarks_array()
    assert points.shape == (5, 2)
    assert np.all((points[:, 0] > face.x1) & (points[:, 0] < face.x2))
    assert np.all((points[:, 1] > face.y1) & (points[:, 1] < face.y2))
    left_eye, right_eye, nose = points[0], points[1], points[2]
    assert left_eye[0] < nose[0] < right_eye[0]


@pytest.mark.models
def test_detect_upscales_a_sprite_tile_and_reports_boxes_in_tile_pixels(
    default_profile: Profile,
) -> None:
    sheet = read_bgr(faces_or_skip(FACES) / "sprites" / "dev_video_sprite.jpg")
    tile = np.ascontiguousarray(sheet[0:90, 0:160])

    detections = default_profile.detect(tile, upscale_to=640)

    assert detections, "the first frame of the Hamilton clip shows a face"
    face = detections[0]
    assert 0 <= face.x1 < face.x2 <= 160
    assert 0 <= face.y1 < face.y2 <= 90
    assert 8 <= face.height <= 60


def test_primary_face_is_the_large_central_one() -> None:
    corner = Detection(0, 0, 40, 40, 0.99, ((10.0, 10.0),) * 5)
    centre = Detection(60, 60, 140, 140, 0.80, ((100.0, 100.0),) * 5)

    assert primary_face_index([corner, centre], width=200, height=200) == 1
    assert primary_face_index([], width=200, height=200) is None
