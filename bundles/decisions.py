"""The curation decisions made here, which an imported bundle never undoes.

The rule, applied by the importer:
- A performer merged here (a `MergeRecord` not undone) stays merged: whatever a bundle says
  about the merged-away id goes to the identity it was merged into (stash IDs, aliases, URLs,
  faces), and that identity's own fields are left as curated. A merge that was undone (split)
  is no longer a decision: both identities follow the bundle again.
- An identity that others were merged into here only gains rows from bundles, never loses
  them; every other imported identity mirrors the bundle (fields, aliases, URLs, body
  modifications and stash IDs are replaced by the bundle's).
- Two performers a curator said are different people (a rejected duplicate item) stay apart:
  a bundle that merged them, or moves a face or stash ID from one to the other, is not
  followed for that pair.
- A face removed here stays removed (its status is never touched by an import); a face or
  performer deleted here stays deleted (`BundleEntry` remembers its key); a face a curator
  kept (a rejected suspicious-face item) stays even when the bundle deletes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from performers.models import MergeRecord

# Merges an import performs itself (following the publisher's merges) carry this actor label;
# they are the bundle's decisions, not a curator's.
BUNDLE_ACTOR_PREFIX = "bundle:"


def merge_map(*, include_bundle_merges: bool = True) -> dict[str, str]:
    """Performer id → the identity it now belongs to, following merges of merges."""
    records = MergeRecord.objects.filter(undone_at__isnull=True)
    if not include_bundle_merges:
        records = records.exclude(actor_label__startswith=BUNDLE_ACTOR_PREFIX)
    direct: dict[str, str] = {}
    for sources, target_key in records.order_by("created_at", "pk").values_list(
        "source_keys", "target_key"
    ):
        for source in sources:
            direct[str(source)] = str(target_key)
    resolved = {}
    for key, first in direct.items():
        seen, target = {key}, first
        while target in direct and target not in seen:
            seen.add(target)
            target = direct[target]
        resolved[key] = target
    return resolved


class CuratorVerdicts(Protocol):
    """What curators decided here that an import must respect.

    The review domain keeps these decisions and sits above bundles, so it registers its
    answers (`curator_verdicts_register`, from its app's `ready()`); bundles never import it.
    """

    def apart_pairs(self) -> set[frozenset[str]]:
        """Performer id pairs a curator said are different people."""
        ...

    def kept_faces(self, face_ids: list[int]) -> set[int]:
        """Faces among `face_ids` a curator decided to keep in their gallery."""
        ...


class _NoVerdicts:
    """Where no review domain is installed, nobody has decided anything."""

    def apart_pairs(self) -> set[frozenset[str]]:
        return set()

    def kept_faces(self, face_ids: list[int]) -> set[int]:
        return set()


_verdicts: CuratorVerdicts = _NoVerdicts()


def curator_verdicts_register(provider: CuratorVerdicts) -> None:
    global _verdicts
    _verdicts = provider


@dataclass
class LocalDecisions:
    """Merges and rejections made here, loaded once per import (ids only: small)."""

    merged: dict[str, str] = field(default_factory=dict)
    apart: set[frozenset[str]] = field(default_factory=set)
    targets: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.targets = set(self.merged.values())

    @classmethod
    def load(cls) -> LocalDecisions:
        return cls(merged=merge_map(include_bundle_merges=False), apart=_verdicts.apart_pairs())

    def identity(self, key: str) -> str:
        """The local identity that the bundle's performer `key` belongs to."""
        return self.merged.get(key, key)

    def is_merge_target(self, key: str) -> bool:
        """True when other performers were merged into `key` here."""
        return key in self.targets

    def kept_apart(self, first: str, second: str) -> bool:
        return first != second and frozenset((first, second)) in self.apart

    def kept_faces(self, face_ids: Iterable[int]) -> set[int]:
        """Faces among `face_ids` a curator decided to keep (rejected suspicious-face items)."""
        return _verdicts.kept_faces(list(face_ids))
