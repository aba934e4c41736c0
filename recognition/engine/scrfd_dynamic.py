"""SCRFD-2.5G with a free input size, so a portrait is not padded out to a 640x640 square.

The pinned `scrfd_2.5g_kps.onnx` declares a fixed 1x3x640x640 input, and its two FPN
upsampling steps (`Resize`) name fixed output sizes (40x40, 80x80) instead of a 2x scale.
This module writes a copy with the input's height and width left free and each `Resize` told
to double instead; nothing else changes. It is installed only when its outputs on a 640x640
test image equal the original's, and the detector then shapes its canvas to the image (the
long side still maps to 640; the short side is rounded up to a multiple of 32): a 2:3
portrait costs 640x448 instead of 640x640.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from recognition.engine.errors import ModelFetchError
from recognition.engine.fetch import write_model_file

logger = logging.getLogger(__name__)

VERIFY_TOLERANCE = 1e-4
_DOUBLE = "stashsense_resize_scale_2x"


def dynamic_scrfd_path(fixed_path: Path) -> Path:
    return fixed_path.with_name(fixed_path.stem + "_dynamic.onnx")


def make_dynamic(fixed_bytes: bytes) -> bytes:
    """The same network with free spatial input dimensions."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load_from_string(fixed_bytes)
    except DecodeError as error:
        raise ModelFetchError(f"the SCRFD model file is not ONNX: {error}") from error
    graph = model.graph
    if len(graph.input) != 1 or len(graph.input[0].type.tensor_type.shape.dim) != 4:
        raise ModelFetchError("the SCRFD model does not have one NCHW input")
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for output in graph.output:  # anchors per level now depend on the input size
        for dim in output.type.tensor_type.shape.dim:
            dim.Clear()
    del graph.value_info[:]  # shapes inferred for 640x640 would contradict other sizes
    resizes = [node for node in graph.node if node.op_type == "Resize"]
    if not resizes:
        raise ModelFetchError("the SCRFD model has no Resize step to make size-free")
    graph.initializer.append(
        onnx.numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), _DOUBLE)
    )
    dropped = set()
    for node in resizes:
        if len(node.input) != 4:
            raise ModelFetchError(f"SCRFD Resize {node.name} is not the expected sized kind")
        node.input[2] = _DOUBLE  # scales
        dropped.add(node.input[3])
        del node.input[3]  # sizes
    still_used = {name for node in graph.node for name in node.input}
    unused = [item for item in graph.initializer if item.name in dropped - still_used]
    for item in unused:
        graph.initializer.remove(item)
    return bytes(model.SerializeToString())


def _outputs(model_bytes: bytes, image: np.ndarray) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return list(session.run(None, {session.get_inputs()[0].name: image}))


def verify_dynamic(fixed_bytes: bytes, dynamic_bytes: bytes) -> float:
    """Largest output difference of the two models on a 640x640 image; also runs 640x448."""
    generator = np.random.default_rng(640)
    image = generator.uniform(-1, 1, size=(1, 3, 640, 640)).astype(np.float32)
    expected, got = _outputs(fixed_bytes, image), _outputs(dynamic_bytes, image)
    if len(expected) != len(got):
        raise ModelFetchError("the size-free SCRFD model has different outputs")
    difference = max(float(np.max(np.abs(e - g))) for e, g in zip(expected, got, strict=True))
    _outputs(dynamic_bytes, image[:, :, :, :448].copy())  # must run at another size
    return difference


def ensure_dynamic_scrfd(fixed_path: Path) -> Path:
    """The verified size-free copy of the SCRFD model beside it, made if absent."""
    target = dynamic_scrfd_path(fixed_path)
    if target.is_file():
        return target
    fixed_bytes = fixed_path.read_bytes()
    dynamic_bytes = make_dynamic(fixed_bytes)
    try:
        difference = verify_dynamic(fixed_bytes, dynamic_bytes)
    except Exception as error:  # onnxruntime's errors share no base class but Exception
        raise ModelFetchError(f"the size-free SCRFD model does not run: {error}") from error
    if not difference <= VERIFY_TOLERANCE:
        raise ModelFetchError(
            f"the size-free SCRFD model differs from the original by {difference:.2e}"
        )
    write_model_file(target, dynamic_bytes)
    return target


def detector_model(fixed_path: Path) -> Path:
    """The size-free model when it can be had, else the fixed one (logged)."""
    try:
        return ensure_dynamic_scrfd(fixed_path)
    except (ModelFetchError, OSError) as error:
        logger.warning("SCRFD keeps its fixed 640x640 input: %s", error)
        return fixed_path
