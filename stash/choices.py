"""Choices of the user's Stash side."""

from __future__ import annotations

from django.db import models


class SceneScanStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SuggestionOrigin(models.TextChoices):
    SCAN = "scan", "Library scan"
    REQUEST = "request", "Asked for from the plugin or the API"
