"""Reads on the identity graph."""

from __future__ import annotations

from django.apps import apps
from django.core import serializers
from django.db.models import Q, QuerySet

from performers.external_urls import canonical_url, parse_external_url
from performers.models import MergeRecord, Performer
from performers.names import normalize_name


def performer_list() -> QuerySet[Performer]:
    return Performer.objects.prefetch_related("stash_ids", "aliases", "urls")


def performer_search(*, query: str) -> QuerySet[Performer]:
    """Performers matching a name, an alias, a stash ID or a profile URL."""
    query = query.strip()
    if not query:
        return performer_list()
    condition = Q(name__icontains=query) | Q(stash_ids__stash_id=query)
    normalized = normalize_name(query)
    if normalized:
        condition |= Q(aliases__normalized__contains=normalized)
    if "/" in query or "." in query:
        profile = parse_external_url(query)
        if profile is not None:
            condition |= Q(urls__site=profile.site, urls__site_id=profile.site_id)
        condition |= Q(urls__url__icontains=canonical_url(query))
    matching = Performer.objects.filter(condition).values("pk")
    return performer_list().filter(pk__in=matching)


def performer_merge_history(*, performer: Performer) -> QuerySet[MergeRecord]:
    return MergeRecord.objects.filter(target_key=performer.pk)


def merge_record_source_names(*, record: MergeRecord) -> list[str]:
    """The names the merged-away performers had, read from the record's snapshot."""
    names = []
    for entry in record.snapshot.values():
        for obj in serializers.deserialize("json", entry.get("performer", "[]")):
            names.append(str(obj.object))
    return names


def merge_record_moved_summary(*, record: MergeRecord) -> str:
    """What moved in words: "3 faces, 1 stash ID, 2 aliases"."""
    counts: dict[str, int] = {}
    for entry in record.snapshot.values():
        for label, keys in entry.get("moved", {}).items():
            counts[label] = counts.get(label, 0) + len(keys)
    parts = []
    for label, count in sorted(counts.items()):
        if not count:
            continue
        try:
            meta = apps.get_model(label)._meta
        except LookupError:
            continue
        name = meta.verbose_name if count == 1 else meta.verbose_name_plural
        parts.append(f"{count} {name}")
    return ", ".join(parts)
