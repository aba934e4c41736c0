from __future__ import annotations

from django.contrib import admin

from bundles.models import BundleExport, BundleImport
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
