"""Every write on the identity graph goes through here."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from performers.choices import SourceKind
from performers.external_urls import parse_external_url
from performers.models import MergeRecord, Performer, PerformerAlias, PerformerUrl, Source, StashId
from performers.names import normalize_name
from performers.signals import performers_merged, performers_unmerged
from stashsense.errors import ApplicationError, Conflict, NotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StashIdInput:
    endpoint: str
    stash_id: str


def performer_create(
    *,
    name: str,
    disambiguation: str = "",
    aliases: Iterable[str] = (),
    urls: Iterable[str] = (),
    stash_ids: Iterable[StashIdInput] = (),
    **fields: Any,
) -> Performer:
    """Create one identity with its aliases, URLs and stash IDs."""
    with transaction.atomic():
        performer = Performer(name=name.strip(), disambiguation=disambiguation, **fields)
        performer.full_clean()
        performer.save()
        for alias in aliases:
            performer_alias_add(performer=performer, name=alias)
        for url in urls:
            performer_url_add(performer=performer, url=url)
        for stash_id in stash_ids:
            stash_id_attach(
                performer=performer, endpoint=stash_id.endpoint, stash_id=stash_id.stash_id
            )
    return performer


def performer_alias_add(*, performer: Performer, name: str) -> PerformerAlias | None:
    """Add an alias unless the performer already has it (or is called that)."""
    normalized = normalize_name(name)
    if not normalized or normalized == normalize_name(performer.name):
        return None
    alias, _ = PerformerAlias.objects.get_or_create(
        performer=performer, normalized=normalized, defaults={"name": name.strip()}
    )
    return alias


def stashbox_hosts() -> frozenset[str]:
    """Hosts of the configured stash-box sources, whose performer pages are cross-links."""
    urls = Source.objects.filter(kind=SourceKind.STASHBOX).values_list("url", flat=True)
    return frozenset(host for host in (urlsplit(url).hostname for url in urls) if host)


def performer_url_add(*, performer: Performer, url: str) -> PerformerUrl:
    profile = parse_external_url(url, stashbox_hosts=stashbox_hosts())
    row, _ = PerformerUrl.objects.get_or_create(
        performer=performer,
        url=url.strip(),
        defaults={
            "site": profile.site if profile else "",
            "site_id": profile.site_id if profile else "",
        },
    )
    return row


def stash_id_attach(
    *, performer: Performer, endpoint: str, stash_id: str, **fields: Any
) -> StashId:
    """Point (endpoint, stash_id) at this performer; refuses one owned by another identity."""
    row, created = StashId.objects.get_or_create(
        endpoint=endpoint, stash_id=stash_id, defaults={"performer": performer, **fields}
    )
    if not created and row.performer_id != performer.pk:
        raise Conflict(
            f"Stash ID {endpoint}#{stash_id} already belongs to performer {row.performer_id}.",
            code="stash_id_taken",
        )
    return row


# --- merge and split ---------------------------------------------------------------------


def _owned_models() -> list[type[models.Model]]:
    """Models whose rows belong to one performer: a cascading FK named `performer`."""
    return [
        rel.related_model
        for rel in Performer._meta.related_objects
        if rel.field.name == "performer" and rel.on_delete is models.CASCADE
    ]


def _unique_keys(model: type[models.Model]) -> list[list[str]]:
    """For each unique constraint involving `performer`, the other fields of it."""
    keys = []
    for constraint in model._meta.constraints:
        fields = list(getattr(constraint, "fields", ()))
        if isinstance(constraint, models.UniqueConstraint) and "performer" in fields:
            keys.append([f for f in fields if f != "performer"])
    return keys


def _conflicts_with_target(row: models.Model, target: Performer, keys: list[list[str]]) -> bool:
    model = type(row)
    for fields in keys:
        lookup = {field: getattr(row, field) for field in fields}
        if model._default_manager.filter(performer=target, **lookup).exists():
            return True
    return False


def _move_rows(
    source: Performer, target: Performer, notes: list[str]
) -> tuple[dict[str, list[Any]], dict[str, str]]:
    moved: dict[str, list[Any]] = {}
    replaced: dict[str, str] = {}
    for model in _owned_models():
        label = model._meta.label_lower
        keys = _unique_keys(model)
        rows = list(model._default_manager.filter(performer=source))
        duplicates = [row for row in rows if keys and _conflicts_with_target(row, target, keys)]
        if duplicates:
            replaced[label] = serializers.serialize("json", duplicates)
            model._default_manager.filter(pk__in=[row.pk for row in duplicates]).delete()
            notes.append(
                f"{len(duplicates)} {model._meta.verbose_name_plural} already on the target were dropped"
            )
        keep = [row.pk for row in rows if row not in duplicates]
        model._default_manager.filter(pk__in=keep).update(performer=target)
        moved[label] = keep
    return moved, replaced


def _note_endpoint_clashes(target: Performer, notes: list[str]) -> None:
    endpoints = list(StashId.objects.filter(performer=target).values_list("endpoint", flat=True))
    for endpoint in sorted({e for e in endpoints if endpoints.count(e) > 1}):
        notes.append(
            f"kept {endpoints.count(endpoint)} stash IDs of {endpoint}: the sources disagree"
        )


def _actor_label(actor: AbstractBaseUser | AnonymousUser | str | None) -> tuple[Any, str]:
    if actor is None or isinstance(actor, AnonymousUser):
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor, actor.get_username()


@transaction.atomic
def performer_merge(
    *,
    sources: Sequence[Performer],
    target: Performer,
    actor: AbstractBaseUser | AnonymousUser | str | None = None,
    reason: str = "",
) -> MergeRecord:
    """Fold `sources` into `target`: everything they carry moves, their names become aliases."""
    source_keys = [s.pk for s in sources]
    if not source_keys:
        raise ApplicationError("Choose at least one performer to merge.", code="merge_no_sources")
    if target.pk in source_keys:
        raise ApplicationError("A performer cannot be merged into itself.", code="merge_into_self")
    if len(set(source_keys)) != len(source_keys):
        raise ApplicationError(
            "A performer is listed twice in the merge.", code="merge_duplicate_source"
        )
    locked = {
        p.pk: p
        for p in Performer.objects.select_for_update().filter(pk__in=[*source_keys, target.pk])
    }
    missing = [str(k) for k in [*source_keys, target.pk] if k not in locked]
    if missing:
        raise NotFound(f"Performers not found: {', '.join(missing)}.", code="not_found")
    target = locked[target.pk]
    notes: list[str] = []
    snapshot: dict[str, Any] = {}
    for key in source_keys:
        source = locked[key]
        moved, replaced = _move_rows(source, target, notes)
        created_aliases = [
            alias.pk
            for alias in (
                performer_alias_add(performer=target, name=name) for name in _names_of(source)
            )
            if alias is not None and alias.pk not in moved.get("performers.performeralias", [])
        ]
        snapshot[str(key)] = {
            "performer": serializers.serialize("json", [source]),
            "moved": moved,
            "replaced": replaced,
            "created_aliases": created_aliases,
        }
    _note_endpoint_clashes(target, notes)
    Performer.objects.filter(pk__in=source_keys).delete()
    actor_user, actor_label = _actor_label(actor)
    record = MergeRecord.objects.create(
        target=target,
        target_key=target.pk,
        source_keys=[str(k) for k in source_keys],
        snapshot=snapshot,
        notes=notes,
        actor=actor_user,
        actor_label=actor_label,
        reason=reason,
    )
    Performer.objects.filter(pk=target.pk).update(updated_at=timezone.now())
    logger.info("Merged %s into %s (%s)", record.source_keys, target.pk, actor_label)
    performers_merged.send(
        sender=MergeRecord, record=record, target=target, source_keys=record.source_keys
    )
    return record


@transaction.atomic
def performer_merge_by_keys(
    *,
    target_key: UUID,
    source_keys: Sequence[UUID],
    actor: AbstractBaseUser | AnonymousUser | str | None = None,
    reason: str = "",
) -> MergeRecord:
    """performer_merge for performers named by id (the API's merge); NotFound for unknown ids."""
    target = Performer.objects.filter(pk=target_key).first()
    if target is None:
        raise NotFound(f"Performer {target_key} not found.", code="not_found")
    sources = list(Performer.objects.filter(pk__in=source_keys))
    missing = sorted(str(key) for key in set(source_keys) - {s.pk for s in sources})
    if missing:
        raise NotFound(f"Performers not found: {', '.join(missing)}.", code="not_found")
    return performer_merge(sources=sources, target=target, actor=actor, reason=reason)


def _names_of(performer: Performer) -> list[str]:
    return [performer.name]


@transaction.atomic
def performer_split(
    *, merge_record: MergeRecord, actor: AbstractBaseUser | AnonymousUser | str | None = None
) -> list[Performer]:
    """Undo a merge: recreate the source performers and move back what they carried."""
    record = MergeRecord.objects.select_for_update().get(pk=merge_record.pk)
    if record.undone_at is not None:
        raise Conflict("This merge has already been undone.", code="merge_already_undone")
    target = Performer.objects.select_for_update().filter(pk=record.target_key).first()
    if target is None:
        raise Conflict(
            "The merge target no longer exists (merged again?); undo the later merge first.",
            code="merge_target_gone",
        )
    restored = []
    for key, entry in record.snapshot.items():
        if Performer.objects.filter(pk=UUID(key)).exists():
            raise Conflict(
                f"Performer {key} exists again; cannot restore it.",
                code="merge_conflict",
            )
        for obj in serializers.deserialize("json", entry["performer"]):
            obj.save()
            restored.append(cast(Performer, obj.object))
        PerformerAlias.objects.filter(pk__in=entry["created_aliases"], performer=target).delete()
        for model in _owned_models():
            label = model._meta.label_lower
            model._default_manager.filter(
                pk__in=entry["moved"].get(label, []), performer=target
            ).update(performer_id=UUID(key))
            if label in entry["replaced"]:
                for obj in serializers.deserialize("json", entry["replaced"][label]):
                    obj.save()
    _, actor_label = _actor_label(actor)
    record.undone_at = timezone.now()
    record.undone_by_label = actor_label
    record.save(update_fields=["undone_at", "undone_by_label"])
    logger.info("Undid merge %s (%s)", record.pk, actor_label)
    performers_unmerged.send(sender=MergeRecord, record=record, restored=restored)
    return restored


# --- sources -------------------------------------------------------------------------------


def source_upsert(
    *,
    name: str,
    kind: str,
    url: str,
    api_key: str | None = None,
    requests_per_minute: int | None = None,
    enabled: bool | None = None,
) -> tuple[Source, bool]:
    """Create a source or update the one with this name (or URL); returns (source, created).

    `api_key=None` keeps the stored key; an empty string clears it.
    """
    with transaction.atomic():
        source = (
            Source.objects.select_for_update()
            .filter(models.Q(name=name) | models.Q(url=url))
            .first()
        )
        created = source is None
        if source is None:
            source = Source(name=name)
        source.kind, source.url = kind, url
        if api_key is not None:
            source.api_key = api_key
        if requests_per_minute is not None:
            source.requests_per_minute = requests_per_minute
        if enabled is not None:
            source.enabled = enabled
        try:
            source.full_clean()
        except ValidationError as error:
            raise ApplicationError(
                "; ".join(
                    f"{field}: {' '.join(messages)}"
                    for field, messages in error.message_dict.items()
                ),
                code="invalid_source",
            ) from error
        source.save()
    logger.info("Source %s %s (%s)", source.name, "created" if created else "updated", source.kind)
    return source, created
