"""The performer identity graph: one `Performer` per real person, many source IDs."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from performers.choices import BodyModificationKind, Gender, SourceKind
from performers.names import normalize_name

FUZZY_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def validate_fuzzy_date(value: str) -> None:
    if value and not FUZZY_DATE.match(value):
        raise ValidationError("Use YYYY, YYYY-MM or YYYY-MM-DD.")


class Source(models.Model):
    """An upstream metadata database: a stash-box endpoint (StashDB, FansDB, …) or ThePornDB.

    The API key is write-only: admin and API never show it back, logs never print it.
    """

    name = models.SlugField(max_length=50, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    url = models.URLField(
        max_length=300,
        unique=True,
        help_text="GraphQL endpoint as Stash stores it (https://stashdb.org/graphql), or the REST base URL.",
    )
    api_key = models.CharField(max_length=500, blank=True)
    requests_per_minute = models.PositiveIntegerField(default=240)
    enabled = models.BooleanField(default=True)
    priority = models.IntegerField(
        default=100, help_text="Lower wins when sources disagree on a performer's fields."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def endpoint(self) -> str:
        """The endpoint string Stash keeps next to a stash ID for this source."""
        return self.url

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key)


# The descriptive fields of a performer: what the API shows and a bundle carries.
PERFORMER_FIELDS = (
    "name",
    "disambiguation",
    "gender",
    "country",
    "birth_date",
    "death_date",
    "ethnicity",
    "eye_color",
    "hair_color",
    "height_cm",
    "breast_type",
    "career_start_year",
    "career_end_year",
)


class Performer(models.Model):
    """One real person, whatever number of source entries describe them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, db_index=True)
    normalized_name = models.CharField(max_length=255, db_index=True, editable=False, default="")
    disambiguation = models.CharField(max_length=255, blank=True)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    country = models.CharField(max_length=100, blank=True)
    birth_date = models.CharField(max_length=10, blank=True, validators=[validate_fuzzy_date])
    death_date = models.CharField(max_length=10, blank=True, validators=[validate_fuzzy_date])
    ethnicity = models.CharField(max_length=50, blank=True)
    eye_color = models.CharField(max_length=30, blank=True)
    hair_color = models.CharField(max_length=30, blank=True)
    height_cm = models.PositiveSmallIntegerField(null=True, blank=True)
    breast_type = models.CharField(max_length=30, blank=True)
    career_start_year = models.PositiveSmallIntegerField(null=True, blank=True)
    career_end_year = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.disambiguation})" if self.disambiguation else self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Kept with the row so name lookups use an index instead of scanning every name.
        self.normalized_name = normalize_name(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "normalized_name"}
        super().save(*args, **kwargs)


class StashId(models.Model):
    """A performer's ID on one endpoint; the pair (endpoint, stash_id) names one upstream entry."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="stash_ids")
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="stash_ids"
    )
    endpoint = models.CharField(max_length=300)
    stash_id = models.CharField(max_length=100)
    upstream_updated_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False, help_text="Deleted upstream.")
    merged_into = models.CharField(
        max_length=100, blank=True, help_text="Upstream id this entry was merged into, if any."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "stash ID"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "stash_id"], name="stash_id_unique_per_endpoint"
            ),
        ]
        indexes = [models.Index(fields=["stash_id"])]

    def __str__(self) -> str:
        return f"{self.endpoint}#{self.stash_id}"


class PerformerAlias(models.Model):
    """Another name a performer goes by; `normalized` is what search and resolution compare."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=255)
    normalized = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        verbose_name_plural = "performer aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["performer", "normalized"], name="alias_unique_per_performer"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PerformerUrl(models.Model):
    """A link to an external profile; (site, site_id) is the key identity resolution uses."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="urls")
    url = models.URLField(max_length=500)
    site = models.CharField(max_length=50, blank=True, db_index=True)
    site_id = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "performer URL"
        constraints = [
            models.UniqueConstraint(fields=["performer", "url"], name="url_unique_per_performer"),
        ]
        indexes = [models.Index(fields=["site", "site_id"])]

    def __str__(self) -> str:
        return self.url


class BodyModification(models.Model):
    """A tattoo or piercing, as the sources describe it."""

    performer = models.ForeignKey(
        Performer, on_delete=models.CASCADE, related_name="body_modifications"
    )
    kind = models.CharField(max_length=10, choices=BodyModificationKind.choices)
    location = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.kind}: {self.location} {self.description}".strip()


class MergeRecord(models.Model):
    """The audit of one merge: enough to undo it exactly with `performer_split`."""

    target = models.ForeignKey(
        Performer, on_delete=models.SET_NULL, null=True, blank=True, related_name="merge_records"
    )
    target_key = models.UUIDField(
        help_text="The target's id, kept if the target is later merged away."
    )
    source_keys = models.JSONField(default=list)
    snapshot = models.JSONField(default=dict, help_text="What each source performer carried.")
    notes = models.JSONField(default=list, help_text="Conflicts decided during the merge.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_label = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # No ids in words a curator reads (the admin's titles and breadcrumbs show this).
        count = len(self.source_keys)
        merged = "1 performer" if count == 1 else f"{count} performers"
        return f"Merge #{self.pk} of {merged}, {self.created_at:%Y-%m-%d %H:%M}"
