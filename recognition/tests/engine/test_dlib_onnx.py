"""The ONNX form of dlib's ResNet computes dlib's descriptors, and every failure falls back."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.engine import ModelFetchError, Profile
from recognition.engine.dlib_onnx import (
    DlibEmbedder,
    OnnxDlibEmbedder,
    build_onnx,
    ensure_dlib_onnx,
    load_embedder,
    onnx_model_path,
    read_dlib_resnet,
)
from recognition.engine.fetch import dlib_model_paths
from recognition.engine.profile_registry import DLIB_PROFILE
from recognition.tests.engine.support import FACES, faces_or_skip, profile_or_skip, read_bgr

pytestmark = pytest.mark.models

PORTRAITS = ("obama/001.jpg", "biden/002.jpg", "kit_harington/003.jpg", "obama/003.jpg")


@pytest.fixture(scope="module")
def recogniser_path() -> Path:
    return dlib_model_paths()[1]


@pytest.fixture(scope="module")
def dlib_profile() -> Profile:
    """scrfd-dlib, whatever the default: these tests are about dlib's network and its chips."""
    return profile_or_skip(DLIB_PROFILE)


def real_chips(profile: Profile) -> np.ndarray:
    """Aligned RGB chips of real portraits, as the profile cuts them."""
    chips = []
    for relative in PORTRAITS:
        image = read_bgr(faces_or_skip(FACES) / relative)
        detections = profile.detect(image)[:1]
        assert detections, relative
        chip = profile.align(image, detections)[0]
        chips.append(cv2.cvtColor(chip, cv2.COLOR_BGR2RGB))
    return np.stack(chips)


def test_onnx_descriptors_of_real_faces_equal_dlibs_own(
    dlib_profile: Profile, recogniser_path: Path, tmp_path: Path
) -> None:
    chips = real_chips(dlib_profile)
    chips = np.concatenate([chips, chips[:, :, ::-1]])  # and their mirror images
    onnx_path = ensure_dlib_onnx(tmp_path, recogniser_path)

    ours = OnnxDlibEmbedder(onnx_path, providers=["CPUExecutionProvider"], threads=1)
    dlibs = DlibEmbedder(recogniser_path)
    got, expected = ours.compute(chips), dlibs.compute(chips)

    assert got.shape == expected.shape == (len(chips), 128)
    assert np.max(np.abs(got - expected)) < 1e-4
    # and they are the real thing: the two obama photos are the closest different pair
    distances = np.linalg.norm(got[:4, None] - got[None, :4], axis=-1)
    assert np.argmin(distances[0, 1:]) + 1 == 3


def test_the_converted_file_is_named_after_dlibs_file_and_made_once(
    recogniser_path: Path, tmp_path: Path
) -> None:
    path = ensure_dlib_onnx(tmp_path, recogniser_path)

    assert path == onnx_model_path(tmp_path, recogniser_path)
    assert path.parent == tmp_path / "dlib" and path.suffix == ".onnx"
    modified = path.stat().st_mtime_ns
    assert ensure_dlib_onnx(tmp_path, recogniser_path) == path
    assert path.stat().st_mtime_ns == modified
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_a_truncated_or_foreign_dlib_file_is_refused(recogniser_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.dat"
    truncated.write_bytes(recogniser_path.read_bytes()[:5_000_000])
    shape_predictor = dlib_model_paths()[0]

    with pytest.raises(ModelFetchError):
        read_dlib_resnet(truncated)
    with pytest.raises(ModelFetchError, match=r"no dlib network|not the face-recognition"):
        read_dlib_resnet(shape_predictor)


def test_a_graph_that_differs_from_dlib_is_never_installed(
    recogniser_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recognition.engine import dlib_onnx

    net = read_dlib_resnet(recogniser_path)
    net.fc = net.fc * 1.01 if net.fc is not None else None  # a slightly wrong network
    monkeypatch.setattr(dlib_onnx, "build_onnx", lambda _: build_onnx(net))

    with pytest.raises(ModelFetchError, match="differs from dlib"):
        ensure_dlib_onnx(tmp_path, recogniser_path)
    assert not onnx_model_path(tmp_path, recogniser_path).exists()


def test_a_damaged_converted_file_is_made_again(recogniser_path: Path, tmp_path: Path) -> None:
    path = onnx_model_path(tmp_path, recogniser_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"half a download")

    embedder = load_embedder(
        tmp_path, recogniser_path, providers=["CPUExecutionProvider"], threads=1
    )

    assert embedder.runtime == "onnxruntime"
    assert path.stat().st_size > 20_000_000


def test_when_no_onnx_file_can_be_written_dlib_itself_computes_the_same_descriptors(
    dlib_profile: Profile,
    recogniser_path: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "dlib").write_text("a file where the folder should be")
    chips = real_chips(dlib_profile)[:2]

    embedder = load_embedder(
        tmp_path, recogniser_path, providers=["CPUExecutionProvider"], threads=1
    )

    assert embedder.runtime == "dlib"
    assert "fall back to dlib" in caplog.text
    onnx = load_embedder(
        tmp_path / "writable", recogniser_path, providers=["CPUExecutionProvider"], threads=1
    )
    assert np.max(np.abs(embedder.compute(chips) - onnx.compute(chips))) < 1e-4


def test_the_dlib_profile_embeds_with_onnxruntime(dlib_profile: Profile) -> None:
    assert getattr(dlib_profile, "embedder_runtime", None) == "onnxruntime"
