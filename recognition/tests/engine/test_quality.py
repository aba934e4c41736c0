from __future__ import annotations

import cv2
import numpy as np
import pytest

from recognition.engine import Detection, Profile, QualityGates
from recognition.engine.quality import assess_face, estimate_blur, estimate_yaw
from recognition.tests.engine.support import FACES, faces_or_skip, read_bgr


def face_with_nose_at(nose_x: float) -> Detection:
    return Detection(
        x1=0,
        y1=0,
        x2=100,
        y2=100,
        score=0.9,
        landmarks=((30.0, 40.0), (70.0, 40.0), (nose_x, 60.0), (35.0, 80.0), (65.0, 80.0)),
    )


def test_yaw_is_zero_for_a_centred_nose_and_grows_as_the_nose_moves_sideways() -> None:
    assert estimate_yaw(face_with_nose_at(50.0)) == pytest.approx(0.0, abs=1e-6)
    assert estimate_yaw(face_with_nose_at(60.0)) == pytest.approx(26.6, abs=0.5)
    assert estimate_yaw(face_with_nose_at(30.0)) < -40


def test_gates_flag_a_profile_view_and_a_low_detection_score() -> None:
    chip = np.full((150, 150, 3), 128, np.uint8)
    cv2.putText(chip, "face", (10, 90), cv2.FONT_HERSHEY_SIMPLEX, 1.8, (0, 0, 0), 3)
    profile_view = face_with_nose_at(75.0)

    quality = assess_face(profile_view, chip, QualityGates(min_det_score=0.95))

    assert not quality.passed
    assert "profile_view" in quality.reasons
    assert "low_detection_score" in quality.reasons
    assert "small_face" not in quality.reasons


def test_blur_separates_a_sharp_texture_from_its_blurred_copy() -> None:
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 255, size=(150, 150, 3), dtype=np.uint8)

    assert estimate_blur(sharp) < 0.1
    assert estimate_blur(np.asarray(cv2.GaussianBlur(sharp, (0, 0), 6), np.uint8)) > 0.6


@pytest.mark.models
def test_a_clear_portrait_passes_every_gate(default_profile: Profile) -> None:
    image = read_bgr(faces_or_skip(FACES) / "obama" / "001.jpg")

    face = default_profile.analyze(image, max_faces=1)[0]

    assert face.quality.passed, face.quality
    assert face.quality.overall > 0.8


@pytest.mark.models
def test_a_blurred_portrait_is_flagged_blurred(default_profile: Profile) -> None:
    image = read_bgr(faces_or_skip(FACES) / "obama" / "001.jpg")
    blurred = np.asarray(cv2.GaussianBlur(image, (0, 0), 12), np.uint8)

    faces = default_profile.analyze(blurred, max_faces=1)

    assert faces, "the blurred face is still detected"
    assert not faces[0].quality.passed
    assert "blurred" in faces[0].quality.reasons


@pytest.mark.models
def test_a_tiny_face_found_by_upscaling_is_flagged_small(default_profile: Profile) -> None:
    image = read_bgr(faces_or_skip(FACES) / "obama" / "001.jpg")
    # The face becomes about 20 px tall.
    tiny = np.asarray(cv2.resize(image, (80, 100), interpolation=cv2.INTER_AREA), np.uint8)

    faces = default_profile.analyze(tiny, upscale_to=640, max_faces=1)

    assert faces, "upscaling lets SCRFD find the 20 px face"
    assert faces[0].detection.size < 30
    assert not faces[0].quality.passed
    assert "small_face" in faces[0].quality.reasons
