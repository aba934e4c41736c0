"""Dashboard forms: the queue's filters and a reviewer's decision."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet

from curation.choices import ReviewKind, ReviewStatus
from curation.models import ReviewItem
from curation.selectors import review_queue
from performers.models import Source

UNDECIDED = ""


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
        choices=[(UNDECIDED, "Undecided"), *ReviewStatus.choices], required=False
    )

    def filters(self) -> dict[str, Any]:
        """Cleaned values, or no filter at all when the form is invalid."""
        return self.cleaned_data if self.is_valid() else {}

    def queue(self) -> QuerySet[ReviewItem]:
        values = self.filters()
        status = values.get("status") or UNDECIDED
        return review_queue(
            kind=values.get("kind", ""),
            source=values.get("source"),
            min_score=values.get("min_score"),
            max_score=values.get("max_score"),
            statuses=[status] if status else None,
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
