from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from stashsense.models import ApiKey, api_key_hash


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked",
        "identify_per_minute",
    ]
    list_filter = ["revoked"]
    fields = ["name", "identify_per_minute", "revoked", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if not change:
            raw = ApiKey.generate()
            obj.prefix, obj.key_hash = raw[:10], api_key_hash(raw)
            super().save_model(request, obj, form, change)
            self.message_user(
                request,
                f"New API key (shown once, copy it now): {raw}",
                messages.WARNING,
            )
            return
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Job records are written by their jobs only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False
