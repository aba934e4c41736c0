from __future__ import annotations

from django.contrib import admin

from stash.models import SceneScan, SceneSuggestion
from stashsense.admin import ReadOnlyAdmin


@admin.register(SceneScan)
class SceneScanAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "status",
        "total",
        "identified",
        "skipped",
        "errors",
        "started_at",
        "finished_at",
        "last_error",
    ]
    list_filter = ["status"]


@admin.register(SceneSuggestion)
class SceneSuggestionAdmin(ReadOnlyAdmin):
    list_display = ["stash_scene_id", "persons", "origin", "updated_at"]
    list_filter = ["origin"]
    search_fields = ["stash_scene_id"]
