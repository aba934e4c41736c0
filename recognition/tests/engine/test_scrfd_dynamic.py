"""The size-free SCRFD copy finds what the pinned model finds, on a canvas shaped like the image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recognition.engine import ModelFetchError
from recognition.engine.detector import ScrfdDetector
from recognition.engine.fetch import scrfd_model_path
from recognition.engine.scrfd_dynamic import (
    detector_model,
    dynamic_scrfd_path,
    ensure_dynamic_scrfd,
    make_dynamic,
)
from recognition.tests.engine.support import FACES, faces_or_skip, models_dir, read_bgr

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def fixed_model() -> Path:
    path = scrfd_model_path(models_dir())
    if not path.is_file():
        pytest.skip(f"SCRFD model missing at {path}: run `manage.py fetch_models`")
    return path


def detector(path: Path) -> ScrfdDetector:
    return ScrfdDetector(path, providers=["CPUExecutionProvider"], threads=1)


@pytest.mark.parametrize("photo", ["obama/001.jpg", "_group/004.jpg", "kit_harington/003.jpg"])
def test_the_size_free_model_finds_the_same_faces_on_a_smaller_canvas(
    fixed_model: Path, tmp_path: Path, photo: str
) -> None:
    copy = tmp_path / fixed_model.name
    copy.write_bytes(fixed_model.read_bytes())
    fixed, free = detector(copy), detector(ensure_dynamic_scrfd(copy))
    image = read_bgr(faces_or_skip(FACES) / photo)

    expected, got = fixed.detect(image), free.detect(image)

    assert not fixed.size_free and free.size_free
    assert len(got) == len(expected) >= 1
    for a, b in zip(expected, got, strict=True):
        box_a, box_b = np.array([a.x1, a.y1, a.x2, a.y2]), np.array([b.x1, b.y1, b.x2, b.y2])
        assert np.max(np.abs(box_a - box_b)) < 0.02 * a.width
        assert abs(a.score - b.score) < 0.02
    height, width = image.shape[:2]
    size = free.input_size(image.shape)
    assert max(size) == 640 and size[0] % 32 == size[1] % 32 == 0
    if width != height:
        assert min(size) < 640  # the point: no square of padding around a portrait


def test_input_sizes_keep_the_long_side_and_round_the_short_one(fixed_model: Path) -> None:
    free = detector(ensure_dynamic_scrfd(fixed_model))

    assert free.input_size((900, 600, 3)) == (448, 640)  # (width, height) of a 2:3 portrait
    assert free.input_size((90, 160, 3)) == (640, 384)  # a sprite tile, enlarged like before
    assert free.input_size((150, 150, 3)) == (640, 640)
    assert free.input_size((10, 2000, 3)) == (640, 32)


def test_every_canvas_size_runs_on_the_one_size_free_session(fixed_model: Path) -> None:
    """insightface would otherwise keep a fixed-shape session (~37 MB on average) per size it meets."""
    free = detector(ensure_dynamic_scrfd(fixed_model))
    generator = np.random.default_rng(7)
    for short in (96, 224, 352, 480, 640):
        for shape in ((short, 640, 3), (640, short, 3)):
            free.detect(generator.integers(0, 255, size=shape, dtype=np.uint8))

    sessions = free._model._resolution_session_pool.snapshot()  # insightface's own record

    assert len(sessions) >= 9  # sizes it was asked for
    assert {id(session) for session in sessions.values()} == {id(free._model.session)}


def test_a_model_without_the_expected_resize_steps_is_refused() -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "not_scrfd",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 640, 640])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])

    with pytest.raises(ModelFetchError, match="no Resize"):
        make_dynamic(model.SerializeToString())


def test_when_the_copy_cannot_be_made_the_pinned_model_is_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "scrfd_2.5g_kps.onnx"
    broken.write_bytes(b"not a model")

    assert detector_model(broken) == broken
    assert "fixed 640x640 input" in caplog.text
    assert not dynamic_scrfd_path(broken).exists()
