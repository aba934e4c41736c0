"""The work after an item's metadata is in: photos → faces, outlier checks, identity resolution.

Runs in the run's own process (in-process syncs) or as one Celery task per item on the
`recognition` queue, so several workers embed faces side by side. An item is claimed
atomically (PENDING → RUNNING); everything it does is idempotent (photos are skipped when
their URL is already in the gallery and de-duplicated by content), and it adds its counts
to the run once, in the transaction that turns it DONE.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from performers.models import Performer, Source
from recognition.choices import FaceOrigin
from recognition.models import Face, SourceImage
from recognition.services import gallery_photo_add
from scraping.choices import ItemOutcome, ItemState
from scraping.models import SyncItem, SyncRun
from scraping.selectors import performer_of_entry
from scraping.signals import item_synced
from scraping.sources.base import StashKey
from scraping.sync.clients import SourceClients
from scraping.sync.runs import HEARTBEAT_STALE, worker_is_dead
from stashsense.http import OutboundError, display_url

logger = logging.getLogger(__name__)

# Resolution looks for other identities when an entry is new or changed, or gained faces.
_RESOLVE_OUTCOMES = frozenset({ItemOutcome.NEW, ItemOutcome.UPDATED})


def item_claim(item_id: int, worker: str) -> SyncItem | None:
    """PENDING → RUNNING for this worker; None when someone else has it or it is done."""
    mark = SourceImage.objects.aggregate(newest=Max("pk"))["newest"] or 0
    claimed = SyncItem.objects.filter(pk=item_id, state=ItemState.PENDING).update(
        state=ItemState.RUNNING,
        worker=worker,
        claimed_at=timezone.now(),
        image_mark=Coalesce(F("image_mark"), Value(mark)),
    )
    if not claimed:
        return None
    return SyncItem.objects.select_related("run__source").get(pk=item_id)


def items_release_abandoned(run: SyncRun, *, all_running: bool = False) -> int:
    """RUNNING items whose worker is gone go back to PENDING (their work is idempotent)."""
    running = SyncItem.objects.filter(run=run, state=ItemState.RUNNING)
    if not all_running:
        stale = Q(claimed_at__lt=timezone.now() - HEARTBEAT_STALE) | Q(claimed_at__isnull=True)
        dead = [w for w in set(running.values_list("worker", flat=True)) if worker_is_dead(w)]
        running = running.filter(stale | Q(worker__in=dead))
    return running.update(state=ItemState.PENDING)


def item_process(
    item: SyncItem, *, clients: SourceClients, worker: str
) -> tuple[int, int, list[str]]:
    """Do a claimed item's work and mark it DONE; returns (photos, faces, errors)."""
    source = item.run.source
    key = StashKey(clients.endpoint, item.upstream_id)
    # The identity now: a merge may have moved the entry since its upsert.
    performer = performer_of_entry(key=key) or item.performer
    errors: list[str] = []
    if performer is not None and item.photo_urls:
        errors += _photos_add(performer, source, item.photo_urls, clients)
    images = SourceImage.objects.filter(
        source=source, url__in=item.photo_urls, pk__gt=item.image_mark or 0
    )
    faces = list(Face.objects.filter(image__in=images).order_by("pk"))
    photos = images.count()
    if performer is not None:
        errors += _curate(
            performer, faces, resolve=item.outcome in _RESOLVE_OUTCOMES or bool(faces)
        )
    _item_done(item, worker, photos=photos, faces=len(faces), errors=errors)
    return photos, len(faces), errors


def _photos_add(
    performer: Performer, source: Source, urls: list[str], clients: SourceClients
) -> list[str]:
    present = set(
        SourceImage.objects.filter(performer=performer, url__in=urls).values_list("url", flat=True)
    )
    errors: list[str] = []
    for url in urls:
        if url in present:
            continue
        try:
            data = clients.fetch_photo(url)
        except OutboundError as error:
            errors.append(f"photo {display_url(url)}: {error}")
            continue
        outcome = gallery_photo_add(
            performer=performer, data=data, url=url, origin=FaceOrigin.SYNC, source=source
        )
        if outcome.skipped_reason:
            logger.debug(
                "photo %s of %s: %s", display_url(url), performer.pk, outcome.skipped_reason
            )
    return errors


def _curate(performer: Performer, faces: list[Face], *, resolve: bool) -> list[str]:
    """Tell the review domain (outlier checks, identity resolution); what fails is recorded,
    not raised: curation is advice, and the sync must not stop on it."""
    errors: list[str] = []
    answers = item_synced.send_robust(
        sender=SyncItem, performer=performer, faces=faces, resolve=resolve
    )
    for receiver, answer in answers:
        if isinstance(answer, Exception):
            errors.append(f"{receiver.__name__}: {type(answer).__name__}: {answer}")
        elif answer:
            errors += answer
    return errors


def _item_done(item: SyncItem, worker: str, *, photos: int, faces: int, errors: list[str]) -> None:
    with transaction.atomic():
        done = SyncItem.objects.filter(pk=item.pk, state=ItemState.RUNNING, worker=worker).update(
            state=ItemState.DONE,
            photos=photos,
            faces=faces,
            error="\n".join(errors)[:4000],
            finished_at=timezone.now(),
        )
        if not done:  # taken over meanwhile: the new holder counts it
            return
        SyncRun.objects.filter(pk=item.run_id).update(
            photos=F("photos") + photos,
            faces=F("faces") + faces,
            errors=F("errors") + len(errors),
            heartbeat_at=timezone.now(),
        )
