from __future__ import annotations

from django.contrib import admin

from bundles.models import BundleExport, BundleFeedState, BundleImport
from stashsense.admin import ReadOnlyAdmin


@admin.register(BundleExport)
class BundleExportAdmin(ReadOnlyAdmin):
    list_display = [
        "version",
        "kind",
        "base_version",
        "profile",
        "status",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status"]


@admin.register(BundleImport)
class BundleImportAdmin(ReadOnlyAdmin):
    list_display = [
        "version",
        "kind",
        "base_version",
        "profile",
        "status",
        "origin",
        "created_at",
        "error",
    ]
    list_filter = ["kind", "status"]


@admin.register(BundleFeedState)
class BundleFeedStateAdmin(ReadOnlyAdmin):
    list_display = [
        "feed_url",
        "profile",
        "checked_at",
        "newest_version",
        "target_version",
        "check_error",
        "update_finished_at",
        "update_error",
    ]
