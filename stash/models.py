"""The user's Stash as this service keeps it: library scans and the suggestions they store."""

from __future__ import annotations

from django.db import models

from stash.choices import SceneScanStatus, SuggestionOrigin


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
        db_table = "recognition_scenescan"  # moved from recognition: table kept
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
        db_table = "recognition_scenesuggestion"  # moved from recognition: table kept
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Suggestions for Stash scene {self.stash_scene_id}"


class PluginRelease(models.Model):
    """One version of the Stash plugin that this service's plugin source has offered.

    A release is the sha256 of the plugin's zip (its files with this service's address in
    them). `published_at` is the `date` Stash compares to decide that an update exists, so it
    only moves forward: the first time the source serves a zip unlike the latest one, that
    zip's release gets a date later than every date before it.
    """

    sha256 = models.CharField(max_length=64, unique=True)
    version = models.CharField(max_length=80)
    published_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"Stash plugin {self.version} ({self.published_at:%Y-%m-%d %H:%M:%S})"
