"""Upstream values brought into our field names' ranges, shared by every source's conversion."""

from __future__ import annotations

from typing import Any

from performers.choices import Gender
from performers.models import FUZZY_DATE

_GENDERS = {choice.value for choice in Gender}
_GENDER_WORDS = {
    "female": Gender.FEMALE,
    "male": Gender.MALE,
    "transgender female": Gender.TRANSGENDER_FEMALE,
    "trans female": Gender.TRANSGENDER_FEMALE,
    "transgender male": Gender.TRANSGENDER_MALE,
    "trans male": Gender.TRANSGENDER_MALE,
    "intersex": Gender.INTERSEX,
    "non binary": Gender.NON_BINARY,
    "non-binary": Gender.NON_BINARY,
}


def known_fields(**values: Any) -> dict[str, Any]:
    """The values a source gave, stripped; None and empty ones left out."""
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            cleaned[name] = value
    return cleaned


def gender(value: str | None) -> str | None:
    """A `Gender` value from stash-box's enum names or plain words ("Trans female")."""
    if not value:
        return None
    upper = value.strip().upper().replace(" ", "_").replace("-", "_")
    if upper in _GENDERS:
        return upper
    return _GENDER_WORDS.get(value.strip().lower())


def fuzzy_date(value: str | None) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD from the start of `value`, else None."""
    if not value:
        return None
    text = value.strip()[:10]
    return text if FUZZY_DATE.match(text) else None


def small_int(value: int | None) -> int | None:
    """Positive values a SmallInteger column holds; others are upstream oddities."""
    return value if value is not None and 0 < value < 32768 else None
