"""Dashboard forms: the queue's filters and a reviewer's decision."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet

from curation.choices import ReviewKind, ReviewStatus
from curation.models import ReviewItem
from curation.selectors import UNDECIDED_STATUSES, review_queue
from performers.models import Source

UNDECIDED = ""
ALL_STATUSES = "all"
# A bulk action over "all above a score" stops after this many items; the rest stay queued.
BULK_LIMIT = 500


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All kinds"), *ReviewKind.choices], required=False)
    source = forms.ModelChoiceField(
        queryset=Source.objects.all(),
        to_field_name="name",
        required=False,
        empty_label="All sources",
    )
    min_score = forms.FloatField(required=False, min_value=0.0, max_value=1.0, label="Score ≥")
    max_score = forms.FloatField(required=False, min_value=0.0, max_value=1.0, label="Score ≤")
    status = forms.ChoiceField(
        choices=[(UNDECIDED, "Undecided"), (ALL_STATUSES, "All"), *ReviewStatus.choices],
        required=False,
    )

    def filters(self) -> dict[str, Any]:
        """Cleaned values, or no filter at all when the form is invalid."""
        return self.cleaned_data if self.is_valid() else {}

    def queue(self) -> QuerySet[ReviewItem]:
        values = self.filters()
        status = values.get("status") or UNDECIDED
        statuses = {UNDECIDED: None, ALL_STATUSES: list(ReviewStatus.values)}.get(status, [status])
        return review_queue(
            kind=values.get("kind", ""),
            source=values.get("source"),
            min_score=values.get("min_score"),
            max_score=values.get("max_score"),
            statuses=statuses,
        )

    def querystring(self) -> str:
        """The active filters as a query string, to carry from page to page."""
        pairs = []
        for name, value in self.filters().items():
            if value in (None, ""):
                continue
            pairs.append((name, value.name if isinstance(value, Source) else str(value)))
        return urlencode(pairs)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("reject", "Reject"), ("skip", "Skip")]
    )
    keep = forms.CharField(required=False)
    candidate = forms.CharField(required=False)
    filters = forms.CharField(required=False)


class BulkDecisionForm(forms.Form):
    """Accept or reject the ticked items, or every undecided item of the filtered queue whose
    score is at least `min_score`."""

    action = forms.ChoiceField(
        choices=[
            ("accept_selected", "Accept ticked"),
            ("reject_selected", "Reject ticked"),
            ("accept_above", "Accept all above a score"),
            ("reject_above", "Reject all above a score"),
        ]
    )
    items = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=[])
    min_score = forms.FloatField(required=False, min_value=0.0, max_value=1.0)
    filters = forms.CharField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["items"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        ticked = self.data.getlist("items") if hasattr(self.data, "getlist") else []
        field.choices = [(pk, pk) for pk in ticked if str(pk).isdigit()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        decision, _, scope = cleaned.get("action", "_").partition("_")
        cleaned["decision"], cleaned["scope"] = decision, scope
        if cleaned.get("scope") == "selected" and not cleaned.get("items"):
            raise forms.ValidationError("Tick at least one item first.")
        if cleaned.get("scope") == "above" and cleaned.get("min_score") is None:
            raise forms.ValidationError("Give the lowest score to act on (0 to 1).")
        return cleaned

    def chosen(self, queue: QuerySet[ReviewItem]) -> list[ReviewItem]:
        """The items the action applies to, undecided ones of `queue` only, best first."""
        items = queue.filter(status__in=UNDECIDED_STATUSES)
        if self.cleaned_data["scope"] == "selected":
            items = items.filter(pk__in=self.cleaned_data["items"])
        else:
            items = items.filter(score__gte=self.cleaned_data["min_score"])
        return list(items[:BULK_LIMIT])
