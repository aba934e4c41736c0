"""Paths and model loading shared by the engine, scoring and evaluation tests."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.engine import Profile, get_profile
from recognition.engine.errors import ModelMissingError
from recognition.engine.fetch import SCRFD_SHA256
from recognition.engine.profile_registry import DEFAULT_PROFILE

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = REPO_ROOT.parent / "shared"
FACES = SHARED / "faces"
FACES_OPEN = SHARED / "faces-open"
TEST_THREADS = 2


def models_dir() -> Path:
    """Where `manage.py fetch_models` puts models by default (or STASHSENSE_MODELS_DIR)."""
    configured = os.environ.get("STASHSENSE_MODELS_DIR")
    if configured:
        return Path(configured)
    data_dir = os.environ.get("STASHSENSE_DATA_DIR")
    return (Path(data_dir) if data_dir else REPO_ROOT / "var") / "models"


def default_profile_or_skip() -> Profile:
    """The loaded default profile (cached per process), or skip with the reason."""
    return profile_or_skip(DEFAULT_PROFILE)


def profile_or_skip(name: str) -> Profile:
    """The loaded profile `name` (cached per process), or skip with the reason."""
    try:
        return get_profile(name, models_dir(), threads=TEST_THREADS)
    except ModelMissingError as error:
        pytest.skip(f"{error}")


def faces_or_skip(folder: Path) -> Path:
    if not folder.is_dir():
        pytest.skip(f"photo set {folder} is not present")
    return folder


def read_bgr(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return np.asarray(image, dtype=np.uint8)


__all__ = [
    "FACES",
    "FACES_OPEN",
    "REPO_ROOT",
    "SCRFD_SHA256",
    "SHARED",
    "default_profile_or_skip",
    "faces_or_skip",
    "models_dir",
    "profile_or_skip",
    "read_bgr",
]
