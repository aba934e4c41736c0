"""Gallery bundles: what this server exported or imported, and the keys that tie them."""

from __future__ import annotations

from django.db import models

from bundles.choices import BundleEntryKind, BundleKind
from recognition.choices import BuildStatus
from recognition.models import Face, IndexBuild


class BundleExport(models.Model):
    """One bundle written by `manage.py export_bundle`; its pk orders the export ledger."""

    profile = models.CharField(max_length=50)
    kind = models.CharField(max_length=10, choices=BundleKind.choices, default=BundleKind.FULL)
    version = models.CharField(max_length=40, blank=True, db_index=True)
    base_version = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=10, choices=BuildStatus.choices, default=BuildStatus.RUNNING
    )
    path = models.CharField(max_length=1000, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "recognition_bundleexport"  # moved from recognition: table kept
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.kind} bundle {self.version or self.pk} ({self.status})"


class BundleLedgerEntry(models.Model):
    """What the exports have seen of one performer or face, so `--since` finds what changed.

    `digest` hashes the entry's bundle record; `changed_in` is the pk of the export that first
    saw that digest, or saw the entry gone (`deleted`, with the performer it was merged into).
    """

    kind = models.CharField(max_length=10, choices=BundleEntryKind.choices)
    key = models.CharField(max_length=40)
    profile = models.CharField(max_length=50, blank=True, help_text="Faces only.")
    digest = models.CharField(max_length=64)
    changed_in = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    merged_into = models.CharField(max_length=40, blank=True)

    class Meta:
        db_table = "recognition_bundleledgerentry"  # moved from recognition: table kept
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="bundle_ledger_unique_key"),
        ]
        indexes = [models.Index(fields=["kind", "profile", "changed_in"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} (export {self.changed_in})"


class BundleImport(models.Model):
    """One bundle applied here, or tried: the chain of versions that deltas must continue."""

    profile = models.CharField(max_length=50)
    kind = models.CharField(max_length=10, choices=BundleKind.choices, default=BundleKind.FULL)
    version = models.CharField(max_length=40, blank=True)
    base_version = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=10, choices=BuildStatus.choices, default=BuildStatus.RUNNING
    )
    origin = models.CharField(max_length=1000, blank=True, help_text="Path or URL it came from.")
    sha256 = models.CharField(max_length=64, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    index_build = models.ForeignKey(
        IndexBuild, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "recognition_bundleimport"  # moved from recognition: table kept
        ordering = ["-pk"]
        indexes = [models.Index(fields=["profile", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} bundle {self.version} import ({self.status})"


class BundleEntry(models.Model):
    """A performer or face that arrived in a bundle, under its id there (`key`).

    Performers keep their bundle id as their own (UUIDs do not collide). A face keeps its id
    when it is free here and gets a new one otherwise; `face` is the local face, and turns
    null when the face is deleted here, which keeps the next bundle from bringing it back.
    `seen_in` is the last import that carried the entry: a full import deletes what it did not.
    """

    kind = models.CharField(max_length=10, choices=BundleEntryKind.choices)
    profile = models.CharField(max_length=50, blank=True, help_text="Faces only.")
    key = models.CharField(max_length=40)
    face = models.ForeignKey(
        Face, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    seen_in = models.BigIntegerField(default=0)

    class Meta:
        db_table = "recognition_bundleentry"  # moved from recognition: table kept
        verbose_name_plural = "bundle entries"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "profile", "key"], name="bundle_entry_unique_key"
            ),
        ]
        indexes = [models.Index(fields=["kind", "profile", "seen_in"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} from a bundle"


class BundleFeedState(models.Model):
    """What a bundle feed offered a profile's gallery when last checked, and the last update.

    `target_version` is where the bundles the feed offers lead from the version installed at
    check time (empty when none apply); `pending` lists their versions in order.
    """

    feed_url = models.CharField(max_length=1000)
    profile = models.CharField(max_length=50)
    checked_at = models.DateTimeField(null=True, blank=True)
    newest_version = models.CharField(max_length=40, blank=True)
    target_version = models.CharField(max_length=40, blank=True)
    pending = models.JSONField(default=list, blank=True)
    check_error = models.TextField(blank=True)
    update_finished_at = models.DateTimeField(null=True, blank=True)
    update_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["feed_url", "profile"], name="bundle_feed_state_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"bundle feed {self.feed_url} ({self.profile})"
