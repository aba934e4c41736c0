"""Reading settings from the environment, failing early with the variable's name."""

from __future__ import annotations

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


def secret_key(data_dir: Path) -> str:
    """DJANGO_SECRET_KEY, or one generated once and kept under the data dir."""
    configured = env.str("DJANGO_SECRET_KEY", default="").strip()
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


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
