"""The export ledger: what each export saw, so a delta knows what changed and what went away.

Timestamps cannot say that: a stash ID or alias added to a performer, a face moved by a merge
or removed and restored leave no `updated_at` behind, and deleted rows leave nothing at all.
So every export hashes each performer's and face's record and keeps the hash here with the
export that first saw it (`changed_in`); entries no longer found are marked deleted by that
export. A delta since export V carries every entry with `changed_in` > V.

Exports are meant to run one at a time (an operator's command); two at once would only record
changes under either serial, which later deltas still pick up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID

from bundles.choices import BundleEntryKind
from bundles.export_records import active_faces
from bundles.models import BundleLedgerEntry
from performers.models import Performer

SWEEP_BATCH = 2000


def ledger_note(*, kind: str, profile: str, digests: dict[str, str], serial: int) -> dict[str, int]:
    """Record the digests export `serial` saw; returns each key's `changed_in`."""
    entries = {
        entry.key: entry
        for entry in BundleLedgerEntry.objects.filter(kind=kind, key__in=list(digests))
    }
    fresh, changed, changed_in = [], [], {}
    for key, digest in digests.items():
        entry = entries.get(key)
        if entry is None:
            fresh.append(
                BundleLedgerEntry(
                    kind=kind, key=key, profile=profile, digest=digest, changed_in=serial
                )
            )
        elif entry.deleted or entry.digest != digest:
            entry.digest, entry.changed_in, entry.deleted, entry.merged_into = (
                digest,
                serial,
                False,
                "",
            )
            changed.append(entry)
        changed_in[key] = entry.changed_in if entry is not None else serial
    BundleLedgerEntry.objects.bulk_create(fresh)
    BundleLedgerEntry.objects.bulk_update(
        changed, ["digest", "changed_in", "deleted", "merged_into"]
    )
    return changed_in


def ledger_sweep(
    *,
    kind: str,
    profile: str,
    serial: int,
    existing: Callable[[list[str]], set[str]],
    merged_into: Callable[[str], str] | None = None,
) -> int:
    """Mark deleted, by export `serial`, every live entry whose row `existing` no longer finds."""
    last, swept = 0, 0
    while True:
        batch = list(
            BundleLedgerEntry.objects.filter(kind=kind, profile=profile, deleted=False, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "key")[:SWEEP_BATCH]
        )
        if not batch:
            return swept
        last = batch[-1][0]
        alive = existing([key for _, key in batch])
        gone = [
            BundleLedgerEntry(
                pk=pk,
                deleted=True,
                changed_in=serial,
                merged_into=merged_into(key) if merged_into else "",
            )
            for pk, key in batch
            if key not in alive
        ]
        BundleLedgerEntry.objects.bulk_update(gone, ["deleted", "changed_in", "merged_into"])
        swept += len(gone)


def performers_existing(keys: list[str]) -> set[str]:
    ids = [UUID(key) for key in keys]
    return {str(pk) for pk in Performer.objects.filter(pk__in=ids).values_list("pk", flat=True)}


def faces_existing(profile: str) -> Callable[[list[str]], set[str]]:
    def existing(keys: list[str]) -> set[str]:
        ids = [int(key) for key in keys]
        found = active_faces(profile).filter(pk__in=ids).values_list("pk", flat=True)
        return {str(pk) for pk in found}

    return existing


def ledger_deletions(*, kind: str, profile: str, since: int) -> Iterator[tuple[str, str]]:
    """(key, merged_into) of entries deleted after export `since`, keyset-paged."""
    last = 0
    while True:
        batch = list(
            BundleLedgerEntry.objects.filter(
                kind=kind, profile=profile, deleted=True, changed_in__gt=since, pk__gt=last
            )
            .order_by("pk")
            .values_list("pk", "key", "merged_into")[:SWEEP_BATCH]
        )
        if not batch:
            return
        last = batch[-1][0]
        for _, key, merged_into in batch:
            yield key, merged_into


PERFORMER = BundleEntryKind.PERFORMER.value
FACE = BundleEntryKind.FACE.value
