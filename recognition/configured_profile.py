"""The configured face profile, loaded once per process (never at import)."""

from __future__ import annotations

from django.conf import settings

from recognition.engine.errors import ModelMissingError
from recognition.engine.profile import Profile
from recognition.engine.profile_registry import get_profile
from stashsense.errors import Unavailable


def profile_for(name: str | None = None) -> Profile:
    """The loaded profile `name` (default: STASHSENSE_PROFILE); 503 when models are missing."""
    try:
        return get_profile(
            name or settings.STASHSENSE_PROFILE,
            settings.MODELS_DIR,
            threads=settings.STASHSENSE_ORT_THREADS,
        )
    except ModelMissingError as error:
        raise Unavailable(str(error), code="models_missing") from error
