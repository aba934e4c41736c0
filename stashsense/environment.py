"""Reading settings from the environment, failing early with the variable's name."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def read_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name} is malformed: expected true/false, got {raw!r}"
    )


def read_int(name: str, default: int, minimum: int = 0) -> int:
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: expected an integer, got {raw!r}"
        ) from error
    if value < minimum:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be at least {minimum}, got {value}"
        )
    return value


def read_url(name: str, schemes: tuple[str, ...]) -> str:
    raw = env.str(name, default="").strip()
    if raw and not raw.startswith(tuple(f"{scheme}://" for scheme in schemes)):
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: expected a URL starting with one of "
            f"{', '.join(s + '://' for s in schemes)}"
        )
    return raw


# Example values from .env files and tutorials: a key anyone can read signs nothing.
PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        "change-me-to-a-long-random-string",
        "change-me",
        "changeme",
        "change_me",
        "secret",
        "secret-key",
        "secret_key",
        "your-secret-key",
        "your-secret-key-here",
        "replace-me",
        "django-insecure",
    }
)


def secret_key(data_dir: Path) -> str:
    """DJANGO_SECRET_KEY, or one generated once and kept under the data dir."""
    configured = env.str("DJANGO_SECRET_KEY", default="").strip()
    if configured.lower() in PLACEHOLDER_SECRET_KEYS or configured.lower().startswith(
        ("change-me", "changeme")
    ):
        raise ImproperlyConfigured(
            "Environment variable DJANGO_SECRET_KEY is an example placeholder: set a long "
            "random value, or leave it unset to have one generated into "
            f"{data_dir / 'secret_key'}"
        )
    if configured:
        return configured
    path = data_dir / "secret_key"
    if not path.exists():
        _write_new_secret_key(path)
    return path.read_text().strip()


def _write_new_secret_key(path: Path) -> None:
    """Write a fresh key unless another process (a second gunicorn worker, the Celery worker
    starting beside it) got there first: link() of a finished file either wins or fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".secret_key.{secrets.token_hex(8)}")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(secrets.token_urlsafe(50))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def read_float(name: str, default: float) -> float:
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: expected a number, got {raw!r}"
        ) from error
