"""The admin is the operator's console; every action calls a service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from performers.models import (
    BodyModification,
    MergeRecord,
    Performer,
    PerformerAlias,
    PerformerUrl,
    Source,
    StashId,
)
from performers.selectors import (
    merge_record_moved_summary,
    merge_record_source_names,
    performer_search,
)
from performers.services import performer_merge, performer_split
from stashsense.errors import ApplicationError


class SourceForm(forms.ModelForm):
    api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current key.",
    )
    clear_api_key = forms.BooleanField(required=False, help_text="Remove the stored key.")

    class Meta:
        model = Source
        fields = ["name", "kind", "url", "api_key", "requests_per_minute", "enabled", "priority"]

    def clean_api_key(self) -> str:
        value: str = self.cleaned_data.get("api_key") or ""
        if not value and self.instance.pk:
            return self.instance.api_key
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("clear_api_key"):
            cleaned["api_key"] = ""
        return cleaned


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ["name", "kind", "url", "key_set", "requests_per_minute", "enabled", "priority"]
    list_filter = ["kind", "enabled"]

    @admin.display(boolean=True, description="API key set")
    def key_set(self, obj: Source) -> bool:
        return obj.has_api_key


class StashIdInline(admin.TabularInline):
    model = StashId
    extra = 0
    fields = ["endpoint", "stash_id", "source", "upstream_updated_at", "deleted", "merged_into"]


class AliasInline(admin.TabularInline):
    model = PerformerAlias
    extra = 0
    fields = ["name"]


class UrlInline(admin.TabularInline):
    model = PerformerUrl
    extra = 0
    fields = ["url", "site", "site_id"]
    readonly_fields = ["site", "site_id"]


class BodyModificationInline(admin.TabularInline):
    model = BodyModification
    extra = 0


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(s.pk), s.name) for s in Source.objects.all()] + [("none", "No source")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Performer]) -> QuerySet[Performer]:
        if self.value() == "none":
            return queryset.filter(stash_ids__isnull=True)
        value = self.value()
        if value:
            return queryset.filter(stash_ids__source_id=value).distinct()
        return queryset


def _performer_choice(performer: Performer) -> str:
    """ "Bill Simon · stashdb.org, theporndb.net · added 2026-12-04": tells apart two performers
    of one name without showing their ids."""
    hosts = sorted(
        {urlsplit(sid.endpoint).netloc.removeprefix("www.") for sid in performer.stash_ids.all()}
    )
    where = ", ".join(hosts) or "no stash ID"
    return f"{performer} · {where} · added {performer.created_at:%Y-%m-%d}"


class MergeForm(forms.Form):
    target = forms.ChoiceField(label="Keep this performer (the others merge into it)")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(Performer)
class PerformerAdmin(admin.ModelAdmin):
    list_display = ["name", "disambiguation", "gender", "country", "stash_id_count", "updated_at"]
    list_filter = [SourceFilter, "gender"]
    search_fields = ["name"]
    inlines = [StashIdInline, AliasInline, UrlInline, BodyModificationInline]
    actions = ["merge_selected"]
    readonly_fields = ["id", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Performer]:
        return super().get_queryset(request).prefetch_related("stash_ids")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Performer], search_term: str
    ) -> tuple[QuerySet[Performer], bool]:
        if not search_term:
            return queryset, False
        matching = performer_search(query=search_term).values("pk")
        return queryset.filter(pk__in=matching), False

    @admin.display(description="stash IDs")
    def stash_id_count(self, obj: Performer) -> int:
        return len(obj.stash_ids.all())

    @admin.action(description="Merge selected performers")
    def merge_selected(
        self, request: HttpRequest, queryset: QuerySet[Performer]
    ) -> HttpResponse | None:
        performers = list(queryset)
        if len(performers) < 2:
            self.message_user(request, "Select at least two performers to merge.", messages.WARNING)
            return None
        form = MergeForm(request.POST if "confirm" in request.POST else None)
        target_field = form.fields["target"]
        assert isinstance(target_field, forms.ChoiceField)
        target_field.choices = [(str(p.pk), _performer_choice(p)) for p in performers]
        if "confirm" in request.POST and form.is_valid():
            target = next(p for p in performers if str(p.pk) == form.cleaned_data["target"])
            sources = [p for p in performers if p.pk != target.pk]
            try:
                record = performer_merge(
                    sources=sources,
                    target=target,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                return None
            self.message_user(
                request,
                f"Merged {len(sources)} performer(s) into {target}. {'; '.join(record.notes)}",
            )
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge performers",
            "performers": performers,
            "form": form,
            "action": "merge_selected",
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/performers/merge_confirmation.html", context)


@admin.register(MergeRecord)
class MergeRecordAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "target_key",
        "source_count",
        "actor_label",
        "reason",
        "undone_at",
    ]
    list_filter = ["undone_at"]
    # Plain words instead of the snapshot's JSON; the raw record stays in the database.
    fields = readonly_fields = (
        "created_at",
        "kept",
        "merged_away",
        "what_moved",
        "notes_text",
        "merged_by",
        "reason",
        "undone_at",
        "undone_by",
    )
    actions = ["undo_merge"]

    def has_change_permission(self, request: HttpRequest, obj: MergeRecord | None = None) -> bool:
        return False  # a record of what happened: read, and undone by its action only

    @admin.display(description="merged by")
    def merged_by(self, obj: MergeRecord) -> str:
        return obj.actor_label or "—"

    @admin.display(description="undone by")
    def undone_by(self, obj: MergeRecord) -> str:
        return obj.undone_by_label or "—"

    @admin.display(description="kept")
    def kept(self, obj: MergeRecord) -> str:
        target = Performer.objects.filter(pk=obj.target_key).first()
        return str(target) if target else f"a performer merged again since ({obj.target_key})"

    @admin.display(description="merged into it")
    def merged_away(self, obj: MergeRecord) -> str:
        return ", ".join(merge_record_source_names(record=obj)) or "—"

    @admin.display(description="what moved")
    def what_moved(self, obj: MergeRecord) -> str:
        return merge_record_moved_summary(record=obj) or "nothing but the names"

    @admin.display(description="notes")
    def notes_text(self, obj: MergeRecord) -> str:
        return "; ".join(str(note) for note in obj.notes) or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="sources")
    def source_count(self, obj: MergeRecord) -> int:
        return len(obj.source_keys)

    @admin.action(description="Undo this merge")
    def undo_merge(self, request: HttpRequest, queryset: QuerySet[MergeRecord]) -> None:
        # Newest first, so a chain of merges unwinds in the right order.
        for record in queryset.order_by("-created_at"):
            try:
                restored = performer_split(merge_record=record, actor=request.user)
            except ApplicationError as error:
                self.message_user(request, f"Merge {record.pk}: {error.message}", messages.ERROR)
            else:
                names = ", ".join(str(p) for p in restored)
                self.message_user(request, f"Undid merge {record.pk}: restored {names}.")
