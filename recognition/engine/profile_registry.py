"""Which profiles exist, and the per-process cache that loads each one once."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from recognition.engine.errors import ModelMissingError
from recognition.engine.profile import Profile

DLIB_PROFILE = "scrfd-dlib"
MOBILEFACENET_PROFILE = "scrfd-mobilefacenet"
# The default since `evaluate` showed it beats scrfd-dlib on the open set (README, models).
DEFAULT_PROFILE = MOBILEFACENET_PROFILE
_PACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

_cache: dict[tuple[str, Path, int, tuple[str, ...]], Profile] = {}
# One lock for all loads: two threads asking for the same profile must not both load it,
# and loading two different profiles at the same moment is too rare to deserve finer locks.
_cache_lock = threading.Lock()


def get_profile(
    name: str,
    models_dir: Path,
    *,
    threads: int,
    providers: list[str] | None = None,
) -> Profile:
    """The loaded profile `name` (e.g. "scrfd-dlib", "buffalo_l"), loaded on first use.

    Raises ModelMissingError when its model files are not under `models_dir`.
    """
    key = (name, models_dir.resolve(), int(threads), tuple(providers or ()))
    profile = _cache.get(key)
    if profile is not None:
        return profile
    with _cache_lock:
        profile = _cache.get(key)
        if profile is None:
            profile = _load_profile(name, key[1], threads=threads, providers=providers)
            _cache[key] = profile
    return profile


def clear_profile_cache() -> None:
    """Forget loaded profiles (tests; a worker reloading models after fetch_models)."""
    with _cache_lock:
        _cache.clear()


def available_profiles(models_dir: Path) -> list[str]:
    """Profiles whose files look present: the default one plus every insightface pack."""
    from recognition.engine.fetch import scrfd_model_path
    from recognition.engine.mobilefacenet_fetch import onnx_model_path

    names = [DLIB_PROFILE] if scrfd_model_path(models_dir).is_file() else []
    if names and onnx_model_path(models_dir).is_file():
        names.insert(0, MOBILEFACENET_PROFILE)
    packs_dir = models_dir / "models"
    if packs_dir.is_dir():
        names += sorted(
            path.name
            for path in packs_dir.iterdir()
            if path.is_dir() and _PACK_NAME.fullmatch(path.name) and any(path.glob("*.onnx"))
        )
    return names


def _load_profile(
    name: str,
    models_dir: Path,
    *,
    threads: int,
    providers: list[str] | None,
) -> Profile:
    if name == DLIB_PROFILE:
        from recognition.engine.scrfd_dlib import ScrfdDlibProfile

        return ScrfdDlibProfile(models_dir, threads=threads, providers=providers)
    if name == MOBILEFACENET_PROFILE:
        from recognition.engine.scrfd_mobilefacenet import ScrfdMobileFaceNetProfile

        return ScrfdMobileFaceNetProfile(models_dir, threads=threads, providers=providers)
    if not _PACK_NAME.fullmatch(name) or ".." in name:
        raise ModelMissingError(f"unknown face profile {name!r}")
    from recognition.engine.insightface_pack import InsightfacePackProfile

    return InsightfacePackProfile(name, models_dir, threads=threads, providers=providers)
