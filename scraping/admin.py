"""Sync runs in the operator's console (read-only), and the "sync now" actions on sources.

The Source admin belongs to `performers`; its sync actions belong here with the sync, so the
registered SourceAdmin is extended with them rather than redefined.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from performers.admin import SourceAdmin
from performers.models import Source
from scraping.choices import RunStatus
from scraping.models import SyncItem, SyncRun
from scraping.selectors import sync_runs
from scraping.services import sync_run_enqueue
from scraping.sync.runs import run_is_abandoned
from stashsense.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "source",
        "kind",
        "status",
        "progress_bar",
        "performers_new",
        "performers_updated",
        "performers_deleted",
        "faces",
        "errors",
        "heartbeat_at",
        "holder_state",
        "short_error",
    ]
    list_filter = ["status", "kind", "source"]
    readonly_fields = (
        "source",
        "kind",
        "status",
        "progress_bar",
        "options",
        "cursor",
        "watermark",
        "total",
        "pages",
        "performers_new",
        "performers_updated",
        "performers_deleted",
        "photos",
        "faces",
        "errors",
        "last_error",
        "log",
        "worker",
        "holder_state",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncRun]:
        return sync_runs()

    @admin.display(description="holder")
    def holder_state(self, run: SyncRun) -> str:
        """Running runs: is the worker holding it alive? A stale one is taken over soon."""
        if run.status != RunStatus.RUNNING:
            return ""
        if run_is_abandoned(run):
            return f"stale: {run.worker} silent since {run.heartbeat_at:%Y-%m-%d %H:%M} UTC; queued again"
        return "alive"

    @admin.display(description="progress")
    def progress_bar(self, obj: SyncRun) -> SafeString:
        percent = round(obj.progress * 100)
        seen = obj.performers_new + obj.performers_updated + obj.performers_deleted
        seen += int(obj.cursor.get("skipped", 0))
        total = obj.total or "?"
        return format_html('<progress max="100" value="{}"></progress> {}/{}', percent, seen, total)

    @admin.display(description="last error")
    def short_error(self, obj: SyncRun) -> str:
        return obj.last_error[:120]


@admin.register(SyncItem)
class SyncItemAdmin(ReadOnlyAdmin):
    list_display = ["upstream_id", "run", "outcome", "state", "photos", "faces", "error"]
    list_filter = ["outcome", "state"]
    search_fields = ["upstream_id"]
    raw_id_fields = ["run", "performer"]
    list_select_related = ["run__source"]


def _enqueue(request: HttpRequest, sources: QuerySet[Source], *, full: bool) -> None:
    for source in sources:
        try:
            run = sync_run_enqueue(source=source, full=full)
        except ApplicationError as error:
            messages.error(request, error.message)
            continue
        messages.success(request, f"{source.name}: {run.kind} sync run #{run.pk} is {run.status}.")


@admin.action(description="Sync now (incremental)")
def sync_incremental(
    modeladmin: admin.ModelAdmin[Source], request: HttpRequest, queryset: QuerySet[Source]
) -> None:
    _enqueue(request, queryset, full=False)


@admin.action(description="Full sync")
def sync_full(
    modeladmin: admin.ModelAdmin[Source], request: HttpRequest, queryset: QuerySet[Source]
) -> None:
    _enqueue(request, queryset, full=True)


class SyncingSourceAdmin(SourceAdmin):
    actions = [sync_incremental, sync_full]


if admin.site.is_registered(Source):
    admin.site.unregister(Source)
admin.site.register(Source, SyncingSourceAdmin)
