"""Every write of the scraping app: sync runs and their items, and sources read from Stash.

The sync engine itself lives in `scraping.sync` (stages, upserts, item work); these are the
entry points that commands, tasks and the admin call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, Literal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from performers.choices import SourceKind
from performers.models import Source
from performers.services import source_upsert
from recognition.services import index_ensure
from recognition.tasks import index_update
from scraping import tasks
from scraping.choices import ItemState, RunStatus, SyncKind
from scraping.models import SyncItem, SyncRun
from scraping.selectors import (
    source_watermark,
    sources_to_sync,
    sync_items_open,
    sync_run_unfinished,
)
from scraping.sources.registry import source_factory
from scraping.sync.clients import SourceClients, clients_for
from scraping.sync.engine import SyncEngine
from scraping.sync.items import item_claim, item_process, items_release_abandoned
from scraping.sync.options import SyncOptions
from scraping.sync.recorder import Progress
from scraping.sync.runs import (
    HEARTBEAT_STALE,
    RunHolder,
    RunLost,
    log_entry,
    run_claim,
    run_is_abandoned,
    worker_name,
)
from scraping.sync.stash_config import stash_boxes
from stashsense.errors import ApplicationError, Conflict
from stashsense.http import AuthError, PermanentError, TransientError, host_of
from stashsense.queueing import task_send

logger = logging.getLogger(__name__)

# Where an item's photo work happens: in the run's process, as Celery tasks on the
# recognition queue, or left PENDING for `sync_items_drain` workers.
Dispatch = Literal["inline", "tasks", "defer"]


# --- creating and queueing runs -------------------------------------------------------------


@transaction.atomic
def sync_run_create(
    *,
    source: Source,
    full: bool = False,
    images: bool = True,
    max_photos: int = 5,
    max_performers: int | None = None,
    page_size: int | None = None,
    safety_margin_seconds: int | None = None,
) -> SyncRun:
    """A new PENDING run of `source` (nothing is fetched yet)."""
    if max_photos < 0 or (max_performers is not None and max_performers < 1):
        raise ApplicationError("Photo and performer limits must be positive.", code="sync_options")
    if page_size is not None and not 1 <= page_size <= 1000:
        raise ApplicationError("Page size must be between 1 and 1000.", code="sync_options")
    source_factory(source.kind)  # a kind without an implementation fails here, not mid-run
    defaults = SyncOptions()
    options = SyncOptions(
        images=images,
        max_photos=max_photos,
        max_performers=max_performers,
        page_size=page_size or defaults.page_size,
        safety_margin_seconds=(
            defaults.safety_margin_seconds
            if safety_margin_seconds is None
            else safety_margin_seconds
        ),
    )
    return SyncRun.objects.create(
        source=source,
        kind=SyncKind.FULL if full else SyncKind.INCREMENTAL,
        options=options.as_json(),
    )


def sync_run_for(*, source: Source, full: bool = False, **options: Any) -> tuple[SyncRun, bool]:
    """The unfinished run of this kind to resume, else a new one; returns (run, resumed)."""
    kind = SyncKind.FULL if full else SyncKind.INCREMENTAL
    unfinished = sync_run_unfinished(source=source, kind=kind)
    if unfinished is not None:
        return unfinished, True
    return sync_run_create(source=source, full=full, **options), False


def sync_run_enqueue(*, source: Source, full: bool = False, **options: Any) -> SyncRun:
    """Queue a sync of `source` (admin action, beat, `sync_source --async`).

    A run already under way is returned as is; an unfinished one of the same kind is queued
    again to resume it rather than starting over.
    """
    if not source.enabled:
        raise ApplicationError(f"Source {source.name} is disabled.", code="source_disabled")
    with transaction.atomic():
        busy = sync_run_unfinished(source=source)
        if busy is not None and _under_way(busy):
            return busy
        run, _ = sync_run_for(source=source, full=full, **options)
        # "Queued at", so a PENDING run whose task was lost is queued again later.
        SyncRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
            heartbeat_at=timezone.now()
        )
        transaction.on_commit(partial(_sync_run_dispatch, run.pk))
    logger.info("Queued %s sync run %s of %s", run.kind, run.pk, source.name)
    return run


def _sync_run_dispatch(run_id: int) -> None:
    """Queue the run's task; with the broker down the run fails at once (resumable), so it is
    not shown as queued for a task that never comes."""

    def failed(message: str) -> None:
        SyncRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
            status=RunStatus.FAILED, last_error=message, finished_at=timezone.now()
        )

    task_send(partial(tasks.sync_run.delay, run_id), what=f"sync run #{run_id}", on_failure=failed)


def _under_way(run: SyncRun) -> bool:
    """Running with a live holder, or queued recently enough that its task will come."""
    if run.status == RunStatus.RUNNING:
        return not run_is_abandoned(run)
    if run.status == RunStatus.PENDING:
        queued_at = run.heartbeat_at or run.created_at
        return queued_at > timezone.now() - HEARTBEAT_STALE
    return False


def sync_runs_resume_abandoned() -> list[SyncRun]:
    """Beat, every few minutes: queue again each RUNNING run whose holder stopped (a worker
    killed with -9, a machine gone), so a new worker takes it over within minutes rather than
    when the broker redelivers its message (the visibility timeout, an hour)."""
    resumed = []
    for run in SyncRun.objects.filter(status=RunStatus.RUNNING).select_related("source"):
        if run_is_abandoned(run) and run.source.enabled:
            logger.warning("Sync run %s lost its holder %s; queued again", run.pk, run.worker)
            resumed.append(sync_run_enqueue(source=run.source, full=run.kind == SyncKind.FULL))
    return resumed


def sync_runs_schedule() -> list[SyncRun]:
    """Beat: an incremental sync of every enabled source (unfinished runs resume instead)."""
    return [sync_run_enqueue(source=source) for source in sources_to_sync()]


# --- running ----------------------------------------------------------------------------------


def source_watermark_adopt(*, source: Source, watermark: datetime, origin: str) -> SyncRun | None:
    """Let incremental syncs of `source` start at `watermark` when it is newer than its own.

    Used for an imported bundle: its publisher synced the source up to `watermark`, and the
    import brought that state here. Recorded as a finished run of kind BUNDLE (nothing was
    fetched), so the jobs page shows where the watermark came from.
    """
    current = source_watermark(source=source)
    if current is not None and current >= watermark:
        return None
    now = timezone.now()
    message = f"watermark {watermark.isoformat()} taken from {origin}"
    logger.info("Source %s: %s", source.name, message)
    return SyncRun.objects.create(
        source=source,
        kind=SyncKind.BUNDLE,
        status=RunStatus.DONE,
        watermark=watermark,
        started_at=now,
        finished_at=now,
        log=[log_entry("info", message)],
    )


def sync_run_execute(
    *,
    run: SyncRun,
    dispatch: Dispatch = "inline",
    progress: Progress | None = None,
    http_options: dict[str, Any] | None = None,
) -> SyncRun:
    """Claim `run` and drive it to the end (or to where it fails; a re-run resumes there).

    `dispatch="inline"` does each performer's photo work in this process; `"tasks"` queues
    it on the `recognition` queue, `"defer"` leaves it to `sync_items_drain` workers; either
    way the last item to finish completes the run. A bad API key ends the run as
    AUTH_FAILED; an upstream that stays unreachable leaves it FAILED with its cursor
    (TransientError is raised again, so a task can retry and resume it).
    """
    worker = worker_name()
    if not run_claim(run, worker):
        run.refresh_from_db()
        if run.status in (RunStatus.DONE, RunStatus.AUTH_FAILED, RunStatus.CANCELLED):
            return run  # e.g. a task delivered twice: the run is over
        raise Conflict(
            f"Sync run {run.pk} is being run by {run.worker or 'another worker'}.",
            code="sync_run_busy",
        )
    holder = RunHolder(run, worker)
    clients = clients_for(run.source, **(http_options or {}))
    try:
        _drive(holder, clients, dispatch, progress)
    except AuthError as error:
        holder.finish(RunStatus.AUTH_FAILED, last_error=_auth_message(run.source, error))
    except RunLost as error:
        logger.warning("%s", error)
    except TransientError as error:
        holder.finish(
            RunStatus.FAILED,
            last_error=f"{run.source.name} unreachable: {error} (run it again to resume)",
        )
        raise
    except PermanentError as error:  # upstream answered something unusable at the start
        holder.finish(RunStatus.FAILED, last_error=f"{run.source.name}: {error}")
    except Exception as error:
        holder.finish(RunStatus.FAILED, last_error=f"{type(error).__name__}: {error}")
        raise
    finally:
        clients.close()
    run.refresh_from_db()
    return run


def _drive(
    holder: RunHolder, clients: SourceClients, dispatch: Dispatch, progress: Progress | None
) -> None:
    run = holder.run
    if SyncOptions.of(run.options).images:
        index_ensure()  # photo work searches the index (plus new faces), not the database
    items_release_abandoned(run, all_running=dispatch == "inline")
    inline = partial(_item_inline, clients=clients, worker=holder.worker)
    handler: Callable[[SyncItem], None] = inline
    if dispatch == "tasks":
        handler = partial(_item_queue, inline=inline)
        for item in sync_items_open(run=run).filter(state=ItemState.PENDING):
            _item_queue(item, inline=inline)
    elif dispatch == "defer":
        handler = partial(_item_defer, inline=inline)
    SyncEngine(holder, clients, dispatch=handler, progress=progress).drive()
    if dispatch == "inline":
        for item in sync_items_open(run=run).filter(state=ItemState.PENDING).order_by("pk"):
            inline(item)
    sync_run_complete(run=run)


def _item_inline(item: SyncItem, *, clients: SourceClients, worker: str) -> None:
    claimed = item_claim(item.pk, worker)
    if claimed is not None:
        item_process(claimed, clients=clients, worker=worker)


def _item_queue(item: SyncItem, *, inline: Callable[[SyncItem], None]) -> None:
    """Photo work goes to the recognition queue; an item without photos is done here."""
    if not item.photo_urls:
        inline(item)
        return
    transaction.on_commit(partial(tasks.sync_item.apply_async, (item.pk,), queue=tasks.PHOTO_QUEUE))


def _item_defer(item: SyncItem, *, inline: Callable[[SyncItem], None]) -> None:
    if not item.photo_urls:
        inline(item)


def _auth_message(source: Source, error: AuthError) -> str:
    detail = f"HTTP {error.status}" if error.status else "not authorized"
    return f"bad API key for {source.name} ({detail} from {host_of(source.url)})"


def sync_item_execute(*, item: SyncItem) -> SyncItem:
    """One item's photo work (the `recognition` queue's share of a sync); idempotent."""
    worker = worker_name()
    claimed = item_claim(item.pk, worker)
    if claimed is None:
        item.refresh_from_db()
        return item
    item_process(claimed, clients=_worker_clients(claimed.run.source), worker=worker)
    sync_run_complete(run=claimed.run)
    claimed.refresh_from_db()
    return claimed


_worker_local = threading.local()


def _worker_clients(source: Source) -> SourceClients:
    """This thread's clients for `source`, kept from task to task: a worker taking one item
    after another reuses its connections (and TLS sessions) to the source. A changed source
    (URL, key, rate) gets new clients."""
    key = (source.pk, source.kind, source.url, source.api_key, source.requests_per_minute)
    held: tuple[tuple[Any, ...], SourceClients] | None = getattr(_worker_local, "clients", None)
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        held[1].close()
    clients = clients_for(source)
    _worker_local.clients = (key, clients)
    return clients


def sync_items_drain(*, run: SyncRun) -> tuple[int, int]:
    """Work through a run's PENDING items until none is left; returns (photos, faces).

    Several processes may drain one run side by side: each item is claimed atomically.
    """
    worker = worker_name()
    clients = clients_for(run.source)
    photos = faces = 0
    try:
        while True:
            pending = sync_items_open(run=run).filter(state=ItemState.PENDING).order_by("pk")
            item_id = pending.values_list("pk", flat=True).first()
            if item_id is None:
                break
            claimed = item_claim(item_id, worker)
            if claimed is not None:
                added_photos, added_faces, _ = item_process(claimed, clients=clients, worker=worker)
                photos, faces = photos + added_photos, faces + added_faces
    finally:
        clients.close()
    sync_run_complete(run=run)
    return photos, faces


def sync_run_complete(*, run: SyncRun) -> bool:
    """DONE once listing is over and no item is open; True for the caller that finished it.

    Runs that added faces queue an index update, so new faces reach the index incrementally.
    """
    if sync_items_open(run=run).exists():
        return False
    with transaction.atomic():
        finished = SyncRun.objects.filter(
            Q(cursor__stage="items"), pk=run.pk, status=RunStatus.RUNNING
        ).update(status=RunStatus.DONE, finished_at=timezone.now(), heartbeat_at=timezone.now())
        if not finished:
            return False
        faces = SyncRun.objects.filter(pk=run.pk).values_list("faces", flat=True).get()
        if faces:
            transaction.on_commit(index_update.delay)
    run.refresh_from_db()
    logger.info(
        "Sync run %s of %s done: %d new, %d updated, %d deleted, %d photos, %d faces",
        run.pk,
        run.source.name,
        run.performers_new,
        run.performers_updated,
        run.performers_deleted,
        run.photos,
        run.faces,
    )
    return True


# --- sources from Stash -----------------------------------------------------------------------


def sources_import_from_stash(*, stash_url: str, api_key: str) -> list[tuple[Source, bool]]:
    """Create or update a stash-box source for every endpoint configured in Stash.

    An endpoint already known keeps its source name; a new one is named after Stash's name
    for it (or its host), made unique.
    """
    imported = []
    for box in stash_boxes(stash_url, api_key):
        existing = Source.objects.filter(url=box.endpoint).first()
        name = existing.name if existing else _free_source_name(box.name or host_of(box.endpoint))
        imported.append(
            source_upsert(
                name=name, kind=SourceKind.STASHBOX, url=box.endpoint, api_key=box.api_key
            )
        )
    return imported


def _free_source_name(label: str) -> str:
    base = (slugify(label) or "stash-box")[:45]
    name, number = base, 1
    while Source.objects.filter(name=name).exists():
        number += 1
        name = f"{base}-{number}"
    return name
