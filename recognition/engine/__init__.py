"""Face engine: detect → align → embed, per profile. Pure Python, no Django.

Models load lazily through `get_profile`, once per process; importing this package loads none.
"""

from recognition.engine.errors import EngineError, ImageError, ModelFetchError, ModelMissingError
from recognition.engine.fetch import fetch_models
from recognition.engine.images import decode_image
from recognition.engine.profile import Profile
from recognition.engine.profile_registry import (
    DEFAULT_PROFILE,
    available_profiles,
    clear_profile_cache,
    get_profile,
)
from recognition.engine.quality import DEFAULT_GATES, QualityGates
from recognition.engine.types import AnalyzedFace, Detection, FaceQuality

__all__ = [
    "DEFAULT_GATES",
    "DEFAULT_PROFILE",
    "AnalyzedFace",
    "Detection",
    "EngineError",
    "FaceQuality",
    "ImageError",
    "ModelFetchError",
    "ModelMissingError",
    "Profile",
    "QualityGates",
    "available_profiles",
    "clear_profile_cache",
    "decode_image",
    "fetch_models",
    "get_profile",
]
