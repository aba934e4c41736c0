"""Applying a bundle's identity graph: performers and what they own, and their deletions.

Runs inside the import's one transaction, a batch of performers at a time. See
`bundles.decisions` for the rule on what curators decided here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.utils import timezone

from bundles.choices import BundleEntryKind
from bundles.context import ImportContext, datetime_of, uuid_of
from bundles.format import corrupt
from bundles.models import BundleEntry
from performers.choices import SourceKind
from performers.models import (
    PERFORMER_FIELDS,
    BodyModification,
    Performer,
    PerformerAlias,
    PerformerUrl,
    Source,
    StashId,
)
from performers.names import normalize_name
from performers.services import performer_merge
from recognition.models import Face

PERFORMER = BundleEntryKind.PERFORMER.value
FACE = BundleEntryKind.FACE.value
_STASH_ID_UPDATES = ["performer", "source", "upstream_updated_at", "deleted", "merged_into"]


def sources_ensure(sources: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Local source ids by URL; the bundle's unknown sources are added disabled, without keys."""
    known = dict(Source.objects.values_list("url", "pk"))
    for entry in sources:
        url, kind = str(entry.get("url") or ""), str(entry.get("kind") or "")
        if not url or url in known or kind not in SourceKind.values:
            continue
        name = _free_source_name(str(entry.get("name") or "source"))
        source = Source.objects.create(
            name=name,
            kind=kind,
            url=url,
            enabled=False,
            priority=int(entry.get("priority") or 100),
        )
        known[url] = source.pk
    return known


def _free_source_name(name: str) -> str:
    candidate, number = name[:50], 1
    while Source.objects.filter(name=candidate).exists():
        number += 1
        candidate = f"{name[:44]}-{number}"
    return candidate


def _performer_row(record: dict[str, Any]) -> Performer:
    fields = {name: record.get(name) for name in PERFORMER_FIELDS}
    for name, value in fields.items():
        if value is None and name not in ("height_cm", "career_start_year", "career_end_year"):
            fields[name] = ""
    if not fields["name"]:
        raise corrupt(f"performer {record['id']} has no name")
    return Performer(
        id=uuid_of(record["id"], "performer id"),
        normalized_name=normalize_name(str(fields["name"])),
        **fields,
    )


@dataclass
class _Plan:
    """What a batch of performer records does here."""

    created: list[Performer] = field(default_factory=list)
    updated: list[Performer] = field(default_factory=list)
    mirrored: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    extended: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def performers_apply(records: list[dict[str, Any]], context: ImportContext) -> None:
    """Create or update a batch of performers and the rows they own."""
    keys = [str(uuid_of(record.get("id"), "performer id")) for record in records]
    if len(set(keys)) != len(keys):
        raise corrupt("performers.jsonl lists a performer twice")
    for key, record in zip(keys, records, strict=True):
        record["id"] = key
    identities = {key: context.decisions.identity(key) for key in keys}
    here = Performer.objects.in_bulk([UUID(i) for i in set(identities.values())])
    known = set(
        BundleEntry.objects.filter(kind=PERFORMER, profile="", key__in=keys).values_list(
            "key", flat=True
        )
    )
    plan = _plan(records, identities, {str(pk): p for pk, p in here.items()}, known, context)
    Performer.objects.bulk_create(plan.created)
    now = timezone.now()
    for row in plan.updated:
        row.updated_at = now
    Performer.objects.bulk_update(
        plan.updated, [*PERFORMER_FIELDS, "normalized_name", "updated_at"]
    )
    context.counts["performers_created"] += len(plan.created)
    context.counts["performers_updated"] += len(plan.updated)
    _children_replace(plan.mirrored)
    _children_add(plan.extended, {str(pk): p.name for pk, p in here.items()})
    _stash_ids_apply(plan.mirrored, plan.extended, context)
    _entries_touch(PERFORMER, "", keys, context)


def _plan(
    records: list[dict[str, Any]],
    identities: dict[str, str],
    here: dict[str, Performer],
    known: set[str],
    context: ImportContext,
) -> _Plan:
    plan, counts = _Plan(), context.counts
    for record in records:
        key = record["id"]
        identity = identities[key]
        if identity != key:  # merged here into another identity: that one gains the rows
            if identity in here:
                plan.extended.append((identity, record))
            counts["performers_merged_here" if identity in here else "performers_skipped"] += 1
            continue
        row = _performer_row(record)
        if key in here:
            if _fields_differ(here[key], row):
                plan.updated.append(row)
        elif key in known:
            counts["performers_deleted_here"] += 1
            continue
        else:
            plan.created.append(row)
        curated = context.decisions.is_merge_target(key)
        (plan.extended if curated else plan.mirrored).append((key, record))
    return plan


def _fields_differ(current: Performer, incoming: Performer) -> bool:
    return any(getattr(current, n) != getattr(incoming, n) for n in PERFORMER_FIELDS)


def _aliases(performer_id: str, names: Iterable[str], own_name: str) -> list[PerformerAlias]:
    rows, seen = [], {normalize_name(own_name)}
    for name in names:
        normalized = normalize_name(str(name))
        if normalized and normalized not in seen:
            seen.add(normalized)
            rows.append(
                PerformerAlias(
                    performer_id=UUID(performer_id), name=str(name).strip(), normalized=normalized
                )
            )
    return rows


def _urls(performer_id: str, record: dict[str, Any]) -> list[PerformerUrl]:
    rows = {}
    for entry in record.get("urls") or []:
        url = str(entry.get("url") or "").strip()
        if url:
            rows[url] = PerformerUrl(
                performer_id=UUID(performer_id),
                url=url,
                site=str(entry.get("site") or ""),
                site_id=str(entry.get("site_id") or ""),
            )
    return list(rows.values())


def _body_modifications(performer_id: str, record: dict[str, Any]) -> list[BodyModification]:
    return [
        BodyModification(
            performer_id=UUID(performer_id),
            kind=str(entry.get("kind") or ""),
            location=str(entry.get("location") or ""),
            description=str(entry.get("description") or ""),
        )
        for entry in record.get("body_modifications") or []
    ]


def _children_replace(owners: list[tuple[str, dict[str, Any]]]) -> None:
    """Imported identities nobody merged into here mirror the bundle's aliases, URLs, mods."""
    ids = [UUID(key) for key, _ in owners]
    for model in (PerformerAlias, PerformerUrl, BodyModification):
        model._default_manager.filter(performer_id__in=ids).delete()
    PerformerAlias.objects.bulk_create(
        [a for key, r in owners for a in _aliases(key, r.get("aliases") or [], str(r["name"]))]
    )
    PerformerUrl.objects.bulk_create([u for key, r in owners for u in _urls(key, r)])
    BodyModification.objects.bulk_create(
        [m for key, r in owners for m in _body_modifications(key, r)]
    )


def _children_add(owners: list[tuple[str, dict[str, Any]]], names: dict[str, str]) -> None:
    """Identities curated here by a merge only gain the bundle's rows."""
    if not owners:
        return
    aliases, urls, mods = [], [], []
    for identity, record in owners:
        incoming = list(record.get("aliases") or [])
        if identity != record["id"]:
            incoming.append(record["name"])  # a merged-away name lives on as an alias
        aliases += _aliases(identity, incoming, names.get(identity, ""))
        urls += _urls(identity, record)
        mods += _body_modifications(identity, record)
    PerformerAlias.objects.bulk_create(aliases, ignore_conflicts=True)
    PerformerUrl.objects.bulk_create(urls, ignore_conflicts=True)
    have = set(
        BodyModification.objects.filter(performer_id__in=[UUID(i) for i, _ in owners]).values_list(
            "performer_id", "kind", "location", "description"
        )
    )
    fresh = {(m.performer_id, m.kind, m.location, m.description): m for m in mods}
    BodyModification.objects.bulk_create([m for k, m in fresh.items() if k not in have])


def _stash_ids_apply(
    mirrored: list[tuple[str, dict[str, Any]]],
    extended: list[tuple[str, dict[str, Any]]],
    context: ImportContext,
) -> None:
    """Stash IDs go to the identity the bundle names, except between performers kept apart."""
    wanted: dict[tuple[str, str], StashId] = {}
    for identity, record in [*mirrored, *extended]:
        for entry in record.get("stash_ids") or []:
            row = _stash_id_row(identity, entry, context)
            wanted[(row.endpoint, row.stash_id)] = row
    # Stash IDs a mirrored identity no longer has are dropped at the end of the stage, when
    # every batch has had its say (a later batch may move one elsewhere, or keep it here).
    context.stale_stash_ids += [
        (pk, str(owner), endpoint, stash_id)
        for pk, owner, endpoint, stash_id in StashId.objects.filter(
            performer_id__in=[UUID(key) for key, _ in mirrored]
        ).values_list("pk", "performer_id", "endpoint", "stash_id")
        if (endpoint, stash_id) not in wanted
    ]
    owners = {
        (endpoint, stash_id): str(owner)
        for endpoint, stash_id, owner in StashId.objects.filter(
            stash_id__in=[key[1] for key in wanted]
        ).values_list("endpoint", "stash_id", "performer_id")
    }
    rows = []
    for key, row in wanted.items():
        owner = owners.get(key)
        if owner is not None and context.decisions.kept_apart(owner, str(row.performer_id)):
            context.counts["stash_ids_kept_apart"] += 1
            context.stash_ids_kept.add(key)
            continue
        rows.append(row)
    StashId.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["endpoint", "stash_id"],
        update_fields=_STASH_ID_UPDATES,
    )


def stash_ids_stale_remove(context: ImportContext) -> None:
    """Drop the stash IDs mirrored identities lost, unless moved or kept since."""
    for start in range(0, len(context.stale_stash_ids), 1000):
        chunk = context.stale_stash_ids[start : start + 1000]
        still = set(
            StashId.objects.filter(pk__in=[row[0] for row in chunk]).values_list(
                "pk", "performer_id"
            )
        )
        doomed = [
            pk
            for pk, owner, endpoint, stash_id in chunk
            if (pk, UUID(owner)) in still and (endpoint, stash_id) not in context.stash_ids_kept
        ]
        StashId.objects.filter(pk__in=doomed).delete()
        context.counts["stash_ids_removed"] += len(doomed)
    context.stale_stash_ids.clear()


def _stash_id_row(identity: str, entry: dict[str, Any], context: ImportContext) -> StashId:
    endpoint, stash_id = str(entry.get("endpoint") or ""), str(entry.get("stash_id") or "")
    if not endpoint or not stash_id:
        raise corrupt(f"a stash ID of performer {identity} lacks its endpoint or id")
    return StashId(
        performer_id=UUID(identity),
        endpoint=endpoint,
        stash_id=stash_id,
        source_id=context.source_ids.get(str(entry.get("source") or "")),
        upstream_updated_at=datetime_of(entry.get("upstream_updated_at")),
        deleted=bool(entry.get("deleted")),
        merged_into=str(entry.get("merged_into") or ""),
    )


def _entries_touch(kind: str, profile: str, keys: list[str], context: ImportContext) -> None:
    BundleEntry.objects.bulk_create(
        [BundleEntry(kind=kind, profile=profile, key=key, seen_in=context.seen_in) for key in keys],
        update_conflicts=True,
        unique_fields=["kind", "profile", "key"],
        update_fields=["seen_in"],
    )


# --- deletions -----------------------------------------------------------------------------


def performer_forget(key: str, merged_into: str | None, context: ImportContext) -> None:
    """The bundle no longer has performer `key` (deleted, or merged into `merged_into`)."""
    decisions, counts = context.decisions, context.counts
    BundleEntry.objects.filter(kind=PERFORMER, profile="", key=key).delete()
    if decisions.identity(key) != key:
        return  # merged here already: its rows live on in the curated identity
    performer = Performer.objects.filter(pk=UUID(key)).first()
    if performer is None:
        return
    target = decisions.identity(merged_into) if merged_into else None
    if target is not None and decisions.kept_apart(key, target):
        counts["performers_kept_apart"] += 1
        return
    survivor = Performer.objects.filter(pk=UUID(target)).first() if target else None
    if survivor is not None and survivor.pk != performer.pk:
        if not decisions.is_merge_target(key):
            # What it had from bundles is already in the survivor's record (the publisher's
            # merge moved it there); body modifications have no key to de-duplicate them by.
            BodyModification.objects.filter(performer=performer).delete()
        performer_merge(
            sources=[performer],
            target=survivor,
            actor=context.actor,
            reason=f"Merged by the publisher of bundle {context.record.version}.",
        )
        counts["performers_merged"] += 1
    elif decisions.is_merge_target(key) or _has_local_faces(performer):
        counts["performers_kept"] += 1  # holds what was curated or added here: keep it
    else:
        performer.delete()
        counts["performers_deleted"] += 1


def _has_local_faces(performer: Performer) -> bool:
    """True when the performer has faces that no bundle brought (enrolled, confirmed here)."""
    face_ids = list(Face.objects.filter(performer=performer).values_list("pk", flat=True))
    from_bundles = BundleEntry.objects.filter(kind=FACE, face_id__in=face_ids).count()
    return from_bundles < len(face_ids)


def performers_absent_forget(context: ImportContext, batch_size: int = 1000) -> None:
    """After a full import: forget the performers earlier bundles had and this one has not."""
    last = 0
    while True:
        batch = list(
            BundleEntry.objects.filter(kind=PERFORMER, profile="", pk__gt=last)
            .exclude(seen_in=context.seen_in)
            .order_by("pk")
            .values_list("pk", "key")[:batch_size]
        )
        if not batch:
            return
        last = batch[-1][0]
        for _, key in batch:
            performer_forget(key, None, context)
