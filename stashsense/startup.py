"""Start-up for manage.py and the WSGI/ASGI entry: a bad setting is one line, not a traceback."""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ImproperlyConfigured

# Exit status 4 is gunicorn's "App failed to load": its arbiter stops instead of respawning.
BAD_SETTING_EXIT_STATUS = 4


def load_settings_or_exit() -> None:
    """Read the settings now; a malformed variable prints its one-line message and exits."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stashsense.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the first access reads every variable
    except ImproperlyConfigured as error:
        sys.stderr.write(f"Stash Sense cannot start: {error}\n")
        sys.stderr.flush()
        raise SystemExit(BAD_SETTING_EXIT_STATUS) from None


def __getattr__(name: str) -> object:
    """`stashsense.startup:checked_settings`, Celery's configuration source: Django's settings,
    read (or the one-line exit) when Celery first needs them, not at import."""
    if name != "checked_settings":
        raise AttributeError(name)
    load_settings_or_exit()
    from django.conf import settings

    return settings
