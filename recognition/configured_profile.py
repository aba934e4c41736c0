"""The profile this install identifies with, loaded once per process (never at import)."""

from __future__ import annotations

import threading
import time

from django.conf import settings

from recognition.engine.errors import ModelMissingError
from recognition.engine.profile import Profile
from recognition.engine.profile_registry import DEFAULT_PROFILE, get_profile
from recognition.models import IndexBuild
from stashsense.errors import Unavailable

# How long a process trusts its answer to "which profile serves": a switch made by `reembed`
# (a new profile's index becoming active) reaches every process within this time.
SERVING_CACHE_SECONDS = 5.0
_serving: tuple[float, str] | None = None
_serving_lock = threading.Lock()


def serving_profile() -> str:
    """STASHSENSE_PROFILE when it is set; otherwise the profile of the newest active index, so
    that an install whose gallery was built with another profile keeps serving it until
    `reembed --profile` has built the new one; a new install gets the default profile."""
    global _serving
    if settings.STASHSENSE_PROFILE:
        return str(settings.STASHSENSE_PROFILE)
    now = time.monotonic()
    cached = _serving
    if cached is not None and now - cached[0] < SERVING_CACHE_SECONDS:
        return cached[1]
    with _serving_lock:
        newest = (
            IndexBuild.objects.filter(active=True)
            .order_by("-built_at", "-pk")
            .values_list("profile", flat=True)
            .first()
        )
        name = newest or DEFAULT_PROFILE
        _serving = (now, name)
    return name


def serving_profile_forget() -> None:
    """Ask the database again on the next call (tests; right after a switch in this process)."""
    global _serving
    _serving = None


def profile_for(name: str | None = None) -> Profile:
    """The loaded profile `name` (default: the serving one); 503 when models are missing."""
    try:
        return get_profile(
            name or serving_profile(),
            settings.MODELS_DIR,
            threads=settings.STASHSENSE_ORT_THREADS,
        )
    except ModelMissingError as error:
        raise Unavailable(str(error), code="models_missing") from error
