"""Faces, the photos they came from, and the index built over their embeddings."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from django.db import models

from performers.models import Performer, Source
from recognition.choices import BuildStatus, FaceOrigin, FaceStatus


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
    source_face = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The face of another profile this one was embedded again from (reembed).",
    )
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
