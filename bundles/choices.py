"""Choices of gallery bundles."""

from __future__ import annotations

from django.db import models


class BundleKind(models.TextChoices):
    FULL = "full", "Full gallery"
    DELTA = "delta", "Changes since a base version"


class BundleEntryKind(models.TextChoices):
    PERFORMER = "performer", "Performer"
    FACE = "face", "Face"
