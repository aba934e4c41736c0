from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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
    # The stored result in words, person by person, instead of its JSON.
    fields = readonly_fields = (
        "stash_scene_id",
        "who_is_in_it",
        "origin",
        "scan",
        "created_at",
        "updated_at",
    )

    @admin.display(description="who is in it")
    def who_is_in_it(self, obj: SceneSuggestion) -> SafeString:
        lines = [_person_in_words(number, person) for number, person in _persons(obj.result)]
        if not lines:
            return format_html("{}", "Nobody was found in this scene.")
        return format_html_join("", "<p>{}</p>", ((line,) for line in lines))


def _persons(result: Any) -> list[tuple[int, dict[str, Any]]]:
    persons = result.get("persons") if isinstance(result, dict) else None
    if not isinstance(persons, list):
        return []
    return [(n, p) for n, p in enumerate(persons, start=1) if isinstance(p, dict)]


def _person_in_words(number: int, person: dict[str, Any]) -> str:
    """ "Person 1, seen in 12 frames: Anna Example (82 % sure), Annie (40 % sure)"."""
    seen = person.get("appearances")
    head = f"Person {number}" + (
        f", seen in {seen} frame{'' if seen == 1 else 's'}" if isinstance(seen, int) else ""
    )
    names = []
    for match in person.get("matches") or []:
        if not isinstance(match, dict) or not isinstance(match.get("performer"), dict):
            continue
        name = match["performer"].get("name") or "an unnamed performer"
        confidence = match.get("confidence")
        sure = f" ({round(100 * confidence)} % sure)" if isinstance(confidence, int | float) else ""
        names.append(f"{name}{sure}")
    return f"{head}: {', '.join(names) if names else 'nobody in the gallery is close'}"
