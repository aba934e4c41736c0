from django.db import models


class SyncKind(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental"
    # Nothing fetched: an imported bundle's sync state, so incremental syncs start from it.
    BUNDLE = "bundle", "From a bundle"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    AUTH_FAILED = "auth_failed", "Bad API key"
    CANCELLED = "cancelled", "Cancelled"


class ItemState(models.TextChoices):
    """Where one upstream performer stands within a run: metadata is in, work may follow."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class ItemOutcome(models.TextChoices):
    NEW = "new", "New"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Unchanged"
    DELETED = "deleted", "Deleted upstream"
    MERGED = "merged", "Merged upstream"
    FAILED = "failed", "Failed"
