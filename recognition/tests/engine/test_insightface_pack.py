from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from recognition.engine import ModelMissingError, get_profile
from recognition.engine.fetch import scrfd_model_path
from recognition.engine.insightface_pack import find_pack_models
from recognition.tests.engine.support import FACES, faces_or_skip, models_dir, read_bgr

EMBEDDING_DIM = 24


def write_tiny_recogniser(path: Path, *, size: int = 112, dim: int = EMBEDDING_DIM) -> None:
    """An ArcFace-shaped ONNX model: input 1x3xSxS, output 1xD (pooled colours, projected)."""
    weights = np.random.default_rng(7).normal(size=(3 * 4 * 4, dim)).astype(np.float32)
    graph = helper.make_graph(
        nodes=[
            helper.make_node(
                "AveragePool",
                ["data"],
                ["pooled"],
                kernel_shape=[size // 4] * 2,
                strides=[size // 4] * 2,
            ),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "projection"], ["fc1"]),
        ],
        name="tiny_arcface",
        inputs=[helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, size, size])],
        outputs=[helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, dim])],
        initializer=[numpy_helper.from_array(weights, "projection")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.fixture
def tiny_pack(tmp_path: Path) -> Path:
    detector = scrfd_model_path(models_dir())
    if not detector.is_file():
        pytest.skip(f"SCRFD model missing at {detector}: run `manage.py fetch_models`")
    pack = tmp_path / "models" / "tinypack"
    pack.mkdir(parents=True)
    (pack / "det_2.5g.onnx").symlink_to(detector)
    write_tiny_recogniser(pack / "w_tiny.onnx")
    write_tiny_recogniser(pack / "2d106det.onnx", size=192, dim=212)  # a landmark model
    return tmp_path


def test_find_pack_models_picks_the_detector_and_recogniser_and_skips_landmarks(
    tiny_pack: Path,
) -> None:
    detector, recogniser = find_pack_models(tiny_pack / "models" / "tinypack")

    assert detector.name == "det_2.5g.onnx"
    assert recogniser.name == "w_tiny.onnx"


@pytest.mark.models
def test_an_insightface_pack_profile_gives_unit_norm_embeddings_of_the_model_dim(
    tiny_pack: Path,
) -> None:
    profile = get_profile("tinypack", tiny_pack, threads=1)
    image = read_bgr(faces_or_skip(FACES) / "_group" / "004.jpg")

    faces = profile.analyze(image)

    assert profile.name == "tinypack" and profile.metric == "cosine"
    assert profile.dim == EMBEDDING_DIM
    assert len(faces) >= 2
    embeddings = np.vstack([face.embedding for face in faces])
    assert embeddings.dtype == np.float32 and embeddings.shape[1] == EMBEDDING_DIM
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert profile.preprocessing["chip_size"] == 112
    assert set(profile.model_hashes()) == {"detector", "recogniser"}


def test_a_missing_pack_raises_model_missing_and_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="fetch_models"):
        get_profile("buffalo_l", tmp_path, threads=1)


def test_a_profile_name_that_is_a_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="unknown face profile"):
        get_profile("../../etc", tmp_path, threads=1)
