"""Review items in the operator's console; decisions go through the same services as the
dashboard (the dashboard is the place to review, this is for looking things up)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from curation.models import ReviewItem
from curation.services import review_item_accept, review_item_reject, review_item_skip
from stashsense.errors import ApplicationError


@admin.register(ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "score_shown",
        "summary",
        "claimed_by",
        "decided_by",
        "dashboard_link",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["summary", "subject_key"]
    list_select_related = ["claimed_by", "decided_by"]
    ordering = ["-score", "pk"]
    # Words, not JSON: the payload (with its inline thumbnail) and the evidence are summed up.
    fields = readonly_fields = (
        "kind",
        "status",
        "score_shown",
        "summary",
        "evidence_in_words",
        "decision_in_words",
        "performer_a",
        "performer_b",
        "face",
        "merge_record",
        "claimed_by",
        "claimed_at",
        "decided_by",
        "decided_at",
        "created_at",
        "updated_at",
    )
    actions = ["accept_selected", "reject_selected", "skip_selected"]

    @admin.display(description="score", ordering="score")
    def score_shown(self, obj: ReviewItem) -> str:
        return f"{obj.score:.2f}"

    @admin.display(description="evidence")
    def evidence_in_words(self, obj: ReviewItem) -> str:
        entries = [e for e in obj.evidence if isinstance(e, dict)]
        return (
            "; ".join(f"{e.get('label') or e.get('kind')}: {e.get('summary', '')}" for e in entries)
            or "—"
        )

    @admin.display(description="decision")
    def decision_in_words(self, obj: ReviewItem) -> str:
        resolution = obj.resolution or {}
        if resolution.get("merged_elsewhere"):
            return "Answered by a merge made elsewhere."
        if "kept" in resolution:
            return "Merged (see the merge record)."
        if resolution.get("different_people"):
            return "Different people."
        if "face" in resolution:
            return f"Face {resolution['face']}."
        if "candidate" in resolution:
            return (
                f"Named {resolution.get('name') or resolution['candidate']}."
                if resolution["candidate"]
                else "None of the candidates."
            )
        return "Not decided yet."

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReviewItem | None = None) -> bool:
        return False

    @admin.display(description="review")
    def dashboard_link(self, obj: ReviewItem) -> SafeString:
        return format_html('<a href="{}">open</a>', reverse("curation:item", args=[obj.pk]))

    def _decide(
        self,
        request: HttpRequest,
        queryset: QuerySet[ReviewItem],
        decide: Callable[..., ReviewItem],
        verb: str,
    ) -> None:
        user = request.user
        assert isinstance(user, AbstractBaseUser)
        done = 0
        for item in queryset:
            try:
                decide(item=item, user=user)
            except ApplicationError as error:
                self.message_user(request, f"Item {item.pk}: {error.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{verb} {done} item(s).")

    @admin.action(description="Accept selected (merge / remove face)")
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[ReviewItem]) -> None:
        self._decide(request, queryset, review_item_accept, "Accepted")

    @admin.action(description="Reject selected")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[ReviewItem]) -> None:
        self._decide(request, queryset, review_item_reject, "Rejected")

    @admin.action(description="Skip selected")
    def skip_selected(self, request: HttpRequest, queryset: QuerySet[ReviewItem]) -> None:
        self._decide(request, queryset, review_item_skip, "Skipped")
