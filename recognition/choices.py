from django.db import models


class FaceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REMOVED = "removed", "Removed"


class FaceOrigin(models.TextChoices):
    ENROLL = "enroll", "Enrolled from a folder"
    SYNC = "sync", "Synced from a source"
    FEEDBACK = "feedback", "Confirmed by a user"
    BUNDLE = "bundle", "Imported from a bundle"


class BuildStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
