"""Writes of a sync on the identity graph: upsert one upstream performer, re-key merges, deletes.

Idempotent by construction: an upstream entry is found by its unique (endpoint, stash_id), so
running the same upsert twice changes nothing the second time; aliases, URLs and body
modifications are only added when missing. Lists are never pruned, because an identity
gathers them from several sources and a row does not record which source brought it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from performers.models import BodyModification, Performer, Source, StashId
from performers.services import (
    performer_alias_add,
    performer_create,
    performer_merge,
    performer_url_add,
    stash_id_attach,
)
from scraping.sources.base import StashKey, UpstreamPerformer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpsertResult:
    performer: Performer
    created: bool
    merged: int = 0


def _key_filter(keys: list[StashKey]) -> Q:
    return reduce(or_, (Q(endpoint=k.endpoint, stash_id=k.stash_id) for k in keys))


def _oldest(performers: list[Performer]) -> Performer:
    return min(performers, key=lambda p: (p.created_at, str(p.pk)))


def _fit(name: str, value: Any) -> Any:
    """Strings cut to the column's length: an upstream oddity must not fail the upsert."""
    if isinstance(value, str):
        limit = getattr(Performer._meta.get_field(name), "max_length", None)
        return value[:limit] if limit else value
    return value


@transaction.atomic
def performer_upsert_from_upstream(
    *, upstream: UpstreamPerformer, source: Source, actor: str
) -> UpsertResult:
    """Create or update the identity behind `upstream.key` (and its explicit links).

    When the entry and a linked entry belong to different identities, those are one person:
    the newer identity is merged into the oldest one (whose id clients already know).
    """
    keys = [upstream.key, *upstream.linked]
    rows = list(StashId.objects.select_related("performer").filter(_key_filter(keys)))
    identities = list({row.performer_id: row.performer for row in rows}.values())
    merged = 0
    if not identities:
        performer = _performer_create(upstream)
        created = True
    else:
        performer = _oldest(identities)
        others = [p for p in identities if p.pk != performer.pk]
        if others:
            performer_merge(
                sources=others,
                target=performer,
                actor=actor,
                reason=f"{upstream.key.endpoint}#{upstream.key.stash_id} links them",
            )
            merged = len(others)
            performer.refresh_from_db()
        _performer_update(performer, upstream, source)
        created = False
    _attach_keys(performer, upstream, source)
    for alias in upstream.aliases:
        performer_alias_add(performer=performer, name=alias)
    for url in upstream.urls:
        if len(url) <= 500:
            performer_url_add(performer=performer, url=url)
    _body_marks_add(performer, upstream)
    return UpsertResult(performer=performer, created=created, merged=merged)


def _performer_create(upstream: UpstreamPerformer) -> Performer:
    fields = {name: _fit(name, value) for name, value in upstream.fields.items()}
    disambiguation = fields.pop("disambiguation", "")
    return performer_create(
        name=_fit("name", upstream.name), disambiguation=disambiguation, **fields
    )


def _outranked(performer: Performer, source: Source) -> bool:
    """True when a source that wins disagreements (lower priority) also describes them."""
    return (
        StashId.objects.filter(performer=performer, source__priority__lt=source.priority)
        .exclude(source=source)
        .exists()
    )


def _performer_update(performer: Performer, upstream: UpstreamPerformer, source: Source) -> None:
    outranked = _outranked(performer, source)
    changed: list[str] = []
    for name, value in upstream.fields.items():
        value = _fit(name, value)
        current = getattr(performer, name)
        if current != value and (not outranked or current in ("", None)):
            setattr(performer, name, value)
            changed.append(name)
    incoming = _fit("name", upstream.name.strip())
    previous_name = performer.name
    if incoming and incoming != previous_name and not outranked:
        performer.name = incoming
        changed.append("name")
    if changed:
        performer.full_clean()
        performer.save(update_fields=[*changed, "updated_at"])
    # The name that lost keeps matching as an alias (after the save: aliases equal to the
    # current name are not stored).
    if incoming and incoming != previous_name:
        performer_alias_add(performer=performer, name=incoming if outranked else previous_name)


def _attach_keys(performer: Performer, upstream: UpstreamPerformer, source: Source) -> None:
    own = stash_id_attach(
        performer=performer,
        endpoint=upstream.key.endpoint,
        stash_id=upstream.key.stash_id,
        source=source,
        upstream_updated_at=upstream.updated,
    )
    StashId.objects.filter(pk=own.pk).update(
        source=source, upstream_updated_at=upstream.updated, deleted=False, merged_into=""
    )
    for key in upstream.linked:
        stash_id_attach(
            performer=performer,
            endpoint=key.endpoint,
            stash_id=key.stash_id,
            source=Source.objects.filter(url=key.endpoint).first(),
        )


def _body_marks_add(performer: Performer, upstream: UpstreamPerformer) -> None:
    if not upstream.body_marks:
        return
    present = set(
        BodyModification.objects.filter(performer=performer).values_list(
            "kind", "location", "description"
        )
    )
    for mark in upstream.body_marks:
        key = (mark.kind, mark.location[:255], mark.description[:500])
        if key not in present:
            BodyModification.objects.create(
                performer=performer, kind=key[0], location=key[1], description=key[2]
            )
            present.add(key)


@transaction.atomic
def stash_ids_fold_merged(
    *,
    source: Source,
    target: Performer,
    target_key: StashKey,
    merged_ids: tuple[str, ...],
    actor: str,
) -> int:
    """Entries merged upstream into `target_key` join its identity; returns how many changed.

    A merged entry we never knew is still attached (deleted, `merged_into` set): a Stash user
    may carry that old id on a local performer, and results must name every id we know.
    """
    folded = 0
    for merged_id in merged_ids:
        if merged_id == target_key.stash_id:
            continue
        row = (
            StashId.objects.select_related("performer")
            .filter(endpoint=target_key.endpoint, stash_id=merged_id)
            .first()
        )
        if row is None:
            stash_id_attach(
                performer=target,
                endpoint=target_key.endpoint,
                stash_id=merged_id,
                source=source,
                deleted=True,
                merged_into=target_key.stash_id,
            )
            folded += 1
            continue
        if row.deleted and row.merged_into == target_key.stash_id and row.performer_id == target.pk:
            continue
        moved: dict[str, Any] = {}
        if row.performer_id != target.pk:
            if _holds_other_live_entries(row):
                # That identity also stands for another live entry of this endpoint: only
                # the merged entry changes sides, the rest of the identity stays.
                moved = {"performer": target}
            else:
                performer_merge(
                    sources=[row.performer],
                    target=target,
                    actor=actor,
                    reason=f"{target_key.endpoint}: {merged_id} was merged into "
                    f"{target_key.stash_id}",
                )
        StashId.objects.filter(pk=row.pk).update(
            deleted=True, merged_into=target_key.stash_id, source=source, **moved
        )
        folded += 1
    if folded:
        logger.info("Folded %d merged entries into %s", folded, target_key.stash_id)
    return folded


def _holds_other_live_entries(row: StashId) -> bool:
    return (
        StashId.objects.filter(performer_id=row.performer_id, endpoint=row.endpoint, deleted=False)
        .exclude(pk=row.pk)
        .exists()
    )


@transaction.atomic
def stash_id_mark_deleted(*, key: StashKey) -> Performer | None:
    """Mark an entry deleted upstream; returns its identity when this changed anything."""
    row = (
        StashId.objects.select_related("performer")
        .filter(endpoint=key.endpoint, stash_id=key.stash_id, deleted=False)
        .first()
    )
    if row is None:
        return None
    StashId.objects.filter(pk=row.pk).update(deleted=True)
    Performer.objects.filter(pk=row.performer_id).update(updated_at=timezone.now())
    return row.performer
