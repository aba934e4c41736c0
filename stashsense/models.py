"""Cross-cutting tables: API keys."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models


def api_key_hash(raw_key: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is enough: no dictionary to guess from.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    """A key a client (the Stash plugin, a script) sends in `Authorization: Api-Key <key>`.

    Only the SHA-256 of the key is stored; the key itself is shown once, when created.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="First characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)
    identify_per_minute = models.PositiveIntegerField(
        default=120,
        help_text="Identification requests allowed per minute for this key (0: no limit).",
    )

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return "ss_" + secrets.token_urlsafe(32)
