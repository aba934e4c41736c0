"""Writes on cross-cutting tables."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from stashsense.models import ApiKey, api_key_hash


@transaction.atomic
def api_key_create(*, name: str, raw_key: str | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which is never stored."""
    raw = raw_key or ApiKey.generate()
    key = ApiKey.objects.create(name=name, prefix=raw[:10], key_hash=api_key_hash(raw))
    return key, raw


def api_key_touch(*, key: ApiKey) -> None:
    """Record use at most once a minute, to keep writes off the hot path."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
