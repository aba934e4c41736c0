"""Faces, the photos they came from, and the index built over their embeddings."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from django.db import models

from performers.models import Performer, Source
from recognition.choices import (
    BuildStatus,
    FaceOrigin,
    FaceStatus,
    SceneScanStatus,
    SuggestionOrigin,
)


class SourceImage(models.Model):
    """A photo of a performer we detected faces in; the photo itself is not kept."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="source_images")
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True)
    url = models.CharField(
        max_length=1000, blank=True, help_text="Where it came from (URL or path)."
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    face_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["performer", "sha256"], name="source_image_unique_per_performer"
            ),
        ]

    def __str__(self) -> str:
        return self.url or self.sha256[:12]


class Face(models.Model):
    """One face of a performer: where it is, how good it is, and its embedding.

    The primary key is the face's label in the vector index, so merging performers never
    touches the index: labels map to faces, faces to performers.
    """

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="faces")
    image = models.ForeignKey(
        SourceImage, on_delete=models.SET_NULL, null=True, blank=True, related_name="faces"
    )
    profile = models.CharField(max_length=50, db_index=True)
    origin = models.CharField(max_length=20, choices=FaceOrigin.choices, default=FaceOrigin.ENROLL)
    status = models.CharField(max_length=10, choices=FaceStatus.choices, default=FaceStatus.ACTIVE)
    box = models.JSONField(default=dict, help_text="x, y, w, h in the source image.")
    landmarks = models.JSONField(default=list)
    det_score = models.FloatField(default=0.0)
    quality = models.FloatField(default=0.0, help_text="Overall quality 0–1.")
    quality_passed = models.BooleanField(default=True)
    quality_details = models.JSONField(default=dict)
    embedding = models.BinaryField()
    crop = models.BinaryField(blank=True, default=b"", help_text="JPEG of the aligned face.")
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["profile", "status"])]

    def __str__(self) -> str:
        return f"Face {self.pk} of {self.performer_id}"

    def vector(self) -> npt.NDArray[np.float32]:
        return np.frombuffer(bytes(self.embedding), dtype=np.float32)


class IndexBuild(models.Model):
    """One build of the vector index of a profile; the active one is what the server searches."""

    profile = models.CharField(max_length=50)
    path = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=BuildStatus.choices, default=BuildStatus.RUNNING
    )
    active = models.BooleanField(default=False)
    faces = models.PositiveIntegerField(default=0)
    performers = models.PositiveIntegerField(default=0)
    max_face_id = models.BigIntegerField(
        default=0, help_text="Faces above this id were added after the build."
    )
    params = models.JSONField(default=dict)
    calibration = models.JSONField(default=dict, blank=True)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile"],
                condition=models.Q(active=True),
                name="one_active_index_per_profile",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} index #{self.pk} ({self.status})"


# --- the Stash side: library scans and the suggestions they store ---------------------------


class SceneScan(models.Model):
    """One walk over the user's Stash library that identifies every scene from its sprite.

    Stash is read page by page in id order. `cursor` is {"page", "last_id"}: the page being
    worked on and the last scene finished on it. A scene's suggestion is stored in the same
    transaction that moves the cursor past it, so a scan killed at any point and run again
    handles every scene exactly once. `worker` ("host:pid") holds the scan; every write is
    guarded by it, and `heartbeat_at` says it is alive.
    """

    status = models.CharField(
        max_length=10, choices=SceneScanStatus.choices, default=SceneScanStatus.PENDING
    )
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text="only_without_performers, only_new, max_scenes, per_page.",
    )
    cursor = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Scenes in Stash, when last asked.")
    pages = models.PositiveIntegerField(default=0, help_text="Pages finished.")
    identified = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    persons = models.PositiveIntegerField(default=0, help_text="People seen in all scenes.")
    skip_reasons = models.JSONField(default=dict, blank=True, help_text="Reason → scenes.")
    last_error = models.TextField(blank=True)
    log = models.JSONField(default=list, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Library scan #{self.pk} ({self.status})"

    @property
    def processed(self) -> int:
        return self.identified + self.skipped + self.errors

    @property
    def target(self) -> int:
        """How many scenes this scan means to handle: the library, or --max-scenes of it."""
        limit = self.options.get("max_scenes")
        return min(self.total, int(limit)) if limit else self.total

    @property
    def progress(self) -> float:
        if self.status == SceneScanStatus.DONE:
            return 1.0
        return min(1.0, self.processed / self.target) if self.target else 0.0


class SceneSuggestion(models.Model):
    """Who identification says is in one Stash scene, stored so it is shown without re-running.

    `result` is the body of `POST /api/v1/identify/scene` for the scene (persons, their frames,
    thumbnails and candidates); `person` in feedback is an index into its `persons`.
    """

    stash_scene_id = models.CharField(max_length=32, unique=True)
    result = models.JSONField(default=dict)
    persons = models.PositiveSmallIntegerField(default=0)
    origin = models.CharField(
        max_length=10, choices=SuggestionOrigin.choices, default=SuggestionOrigin.REQUEST
    )
    scan = models.ForeignKey(
        SceneScan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suggestions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Suggestions for Stash scene {self.stash_scene_id}"


# --- gallery bundles: what this server exported or imported, and the keys that tie them ------
# (Choices sit here rather than in choices.py only because this change was kept to appends.)


class BundleKind(models.TextChoices):
    FULL = "full", "Full gallery"
    DELTA = "delta", "Changes since a base version"


class BundleEntryKind(models.TextChoices):
    PERFORMER = "performer", "Performer"
    FACE = "face", "Face"


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
        verbose_name_plural = "bundle entries"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "profile", "key"], name="bundle_entry_unique_key"
            ),
        ]
        indexes = [models.Index(fields=["kind", "profile", "seen_in"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} from a bundle"
