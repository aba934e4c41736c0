"""The curation queue: questions the machine could not settle on its own."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from curation.choices import ReviewKind, ReviewStatus
from performers.models import MergeRecord, Performer
from recognition.models import Face

# A duplicate item's `subject_key`: "pair:<low id>:<high id>", the same whichever comes first.
PAIR_PREFIX = "pair:"


class ReviewItem(models.Model):
    """One question for a curator.

    - duplicate: are `performer_a` and `performer_b` one person? Accepting merges b into a
      (or a into b, the curator picks). The performer FKs are SET_NULL because a merge, from
      here or anywhere else, deletes its sources and the decision must outlive them;
      `summary` keeps the names readable afterwards.
    - suspicious face: does `face` belong to its performer? Accepting removes it; rejecting
      keeps it for good (a face has one item ever, so it is not flagged again). CASCADE: an
      item about a face that no longer exists has nothing left to decide.
    - low confidence: who is the person the plugin could not name? `payload` holds what the
      plugin sent (scene id, person thumbnail, candidates).

    `subject_key` makes "the same question" unique: the unordered pair of performer ids for
    duplicates (so a rejected pair is never suggested again), the face id, or the scene and
    person of a low-confidence identification.
    """

    kind = models.CharField(max_length=20, choices=ReviewKind.choices)
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    score = models.FloatField(default=0.0, help_text="Higher means more likely; sorts the queue.")
    subject_key = models.CharField(max_length=200, blank=True, default="", editable=False)
    summary = models.CharField(max_length=500, blank=True)
    performer_a = models.ForeignKey(
        Performer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_items_as_a",
    )
    performer_b = models.ForeignKey(
        Performer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_items_as_b",
    )
    face = models.ForeignKey(
        Face, on_delete=models.CASCADE, null=True, blank=True, related_name="review_items"
    )
    payload = models.JSONField(default=dict, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    resolution = models.JSONField(default=dict, blank=True, help_text="What the curator chose.")
    merge_record = models.ForeignKey(
        MergeRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key"],
                condition=~models.Q(subject_key=""),
                name="review_item_unique_subject",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind", "-score"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_decided(self) -> bool:
        return self.status in (ReviewStatus.ACCEPTED, ReviewStatus.REJECTED)
