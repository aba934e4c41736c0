"""Faces and index builds in the operator's console; every action calls a service."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from recognition.choices import FaceStatus
from recognition.models import Face, IndexBuild
from recognition.services import face_remove, face_restore


@admin.register(Face)
class FaceAdmin(admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "id",
        "performer",
        "profile",
        "origin",
        "status",
        "quality",
        "quality_passed",
        "det_score",
        "created_at",
    ]
    list_display_links = ["thumbnail", "id"]
    list_filter = ["status", "origin", "profile", "quality_passed"]
    search_fields = ["performer__name", "=performer__id"]
    list_select_related = ["performer"]
    raw_id_fields = ["performer", "image"]
    readonly_fields = [
        "large_thumbnail",
        "performer",
        "image",
        "profile",
        "origin",
        "status",
        "box",
        "landmarks",
        "det_score",
        "quality",
        "quality_passed",
        "quality_details",
        "created_at",
        "removed_at",
    ]
    exclude = ["embedding", "crop"]
    actions = ["remove_from_performer", "restore_to_performer"]
    list_per_page = 60

    def get_queryset(self, request: HttpRequest) -> QuerySet[Face]:
        # Never read the embedding or the JPEG for a list page.
        return super().get_queryset(request).defer("embedding", "crop")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        crop = path(
            "<int:pk>/crop.jpg",
            self.admin_site.admin_view(self.crop_view),
            name="recognition_face_crop",
        )
        return [crop, *super().get_urls()]

    def crop_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The aligned face JPEG, for staff who may view faces."""
        if not self.has_view_permission(request):
            raise Http404
        crop = Face.objects.filter(pk=pk).values_list("crop", flat=True).first()
        if not crop:
            raise Http404("No crop for this face.")
        response = HttpResponse(bytes(crop), content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def _image(self, obj: Face, size: int) -> SafeString:
        url = reverse("admin:recognition_face_crop", args=[obj.pk])
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="face {}" loading="lazy">',
            url,
            size,
            size,
            obj.pk,
        )

    @admin.display(description="face")
    def thumbnail(self, obj: Face) -> SafeString:
        return self._image(obj, 64)

    @admin.display(description="face")
    def large_thumbnail(self, obj: Face) -> SafeString:
        return self._image(obj, 192)

    @admin.action(description="Remove from performer (stops identifying with it at once)")
    def remove_from_performer(self, request: HttpRequest, queryset: QuerySet[Face]) -> None:
        removed = 0
        for face in queryset.filter(status=FaceStatus.ACTIVE):
            face_remove(face=face, actor=request.user.get_username())
            removed += 1
        self.message_user(request, f"Removed {removed} face(s) from their performers.")

    @admin.action(description="Restore to performer")
    def restore_to_performer(self, request: HttpRequest, queryset: QuerySet[Face]) -> None:
        restored = 0
        for face in queryset.filter(status=FaceStatus.REMOVED):
            face_restore(face=face, actor=request.user.get_username())
            restored += 1
        level = messages.SUCCESS if restored else messages.WARNING
        self.message_user(request, f"Restored {restored} face(s).", level)


@admin.register(IndexBuild)
class IndexBuildAdmin(admin.ModelAdmin):
    """Read-only: builds are made by `manage.py build_index` and its task."""

    list_display = [
        "id",
        "profile",
        "status",
        "active",
        "faces",
        "performers",
        "progress_percent",
        "started_at",
        "built_at",
    ]
    list_filter = ["profile", "status", "active"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IndexBuild | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: IndexBuild | None = None) -> bool:
        return False

    @admin.display(description="progress")
    def progress_percent(self, obj: IndexBuild) -> str:
        return f"{100 * obj.progress:.0f}%"
