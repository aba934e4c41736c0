"""Sync runs: one row per pass over a source, resumable from its cursor."""

from __future__ import annotations

from django.db import models

from performers.models import Performer, Source
from scraping.choices import ItemOutcome, ItemState, RunStatus, SyncKind


class SyncRun(models.Model):
    """A full or incremental sync of one source.

    `cursor` says where to resume (page, ids already seen on the current page); `watermark`
    is the newest upstream `updated` time fully processed, which the next incremental sync
    starts from.
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=12, choices=SyncKind.choices, default=SyncKind.INCREMENTAL)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.PENDING)
    options = models.JSONField(default=dict, blank=True)
    cursor = models.JSONField(default=dict, blank=True)
    watermark = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Performers upstream, when known.")
    pages = models.PositiveIntegerField(default=0)
    performers_new = models.PositiveIntegerField(default=0)
    performers_updated = models.PositiveIntegerField(default=0)
    performers_deleted = models.PositiveIntegerField(default=0)
    photos = models.PositiveIntegerField(default=0)
    faces = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    worker = models.CharField(
        max_length=200, blank=True, help_text="host:pid of the process that holds the run."
    )
    log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["source", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} sync of {self.source} ({self.status})"

    @property
    def progress(self) -> float:
        seen = (
            self.performers_new
            + self.performers_updated
            + self.performers_deleted
            + int(self.cursor.get("skipped", 0))
        )
        return min(1.0, seen / self.total) if self.total else 0.0


class SyncItem(models.Model):
    """One upstream performer as one run met it: the run's record that it was handled.

    Its (run, upstream_id) key is what makes a run exactly-once: a performer seen twice
    (offset paging over a live database) or again after a resume is skipped. Metadata is
    written in the same transaction that creates the item; photo work and identity
    resolution follow, and the item turns DONE (adding its counts to the run) once.
    """

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    upstream_id = models.CharField(max_length=100)
    performer = models.ForeignKey(
        Performer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=ItemOutcome.choices)
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.PENDING)
    photo_urls = models.JSONField(default=list, blank=True)
    image_mark = models.BigIntegerField(
        null=True, blank=True, help_text="Newest source image id when photo work first began."
    )
    photos = models.PositiveIntegerField(default=0)
    faces = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "upstream_id"], name="sync_item_once_per_run")
        ]
        indexes = [models.Index(fields=["run", "state"])]

    def __str__(self) -> str:
        return f"{self.upstream_id} in run {self.run_id} ({self.outcome}, {self.state})"
