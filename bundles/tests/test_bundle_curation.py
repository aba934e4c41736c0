"""Curation decisions made here survive every later import (the rule: bundles/decisions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bundles.export import bundle_export
from bundles.importer import bundle_import
from bundles.tests.test_bundle_support import (
    STASHDB,
    bundle_env,
    consumer_wipe,
    face_add,
    face_vector,
    publish_gallery,
    search_state,
)
from curation.tests.factories import DuplicateItemFactory, SuspiciousFaceItemFactory
from performers.models import MergeRecord, Performer, StashId
from performers.services import performer_alias_add, performer_merge, performer_split
from recognition.models import Face
from recognition.services import face_remove

__all__ = ["bundle_env"]


@dataclass
class Published:
    first: Path
    delta: Path
    full: Path
    names: dict[str, str]  # "A".."D" → performer id
    vectors: dict[str, bytes]  # face label → embedding


def _face(vector: bytes) -> Face:
    return Face.objects.get(embedding=vector)


def _publish(folder: Path) -> Published:
    """A, B, C, D; then the publisher adds to B, edits a face of C, merges D into C."""
    people = publish_gallery(performers=4, faces_each=2)
    names = dict(zip("ABCD", (str(p.pk) for p in people), strict=True))
    vectors = {
        f"{letter}{i}": bytes(face.embedding)
        for letter, person in zip("ABCD", people, strict=True)
        for i, face in enumerate(Face.objects.filter(performer=person).order_by("pk"))
    }
    first = bundle_export(destination=folder / "first.zip")
    b, c, d = people[1], people[2], people[3]
    performer_alias_add(performer=b, name="B New Alias")
    vectors["B2"] = bytes(face_add(b, face_vector(1, 777)).embedding)
    Face.objects.filter(embedding=vectors["C0"]).update(quality=0.5)
    face_remove(face=_face(vectors["D1"]))
    performer_merge(sources=[d], target=c, actor="publisher")
    delta = bundle_export(destination=folder / "delta.zip", since=first.version)
    full = bundle_export(destination=folder / "full.zip")
    return Published(Path(first.path), Path(delta.path), Path(full.path), names, vectors)


def _curate(published: Published) -> None:
    """What a curator did here after importing the first bundle."""
    a, b, c, d = (Performer.objects.get(pk=published.names[x]) for x in "ABCD")
    performer_merge(sources=[b], target=a, actor="curator", reason="same person")
    face_remove(face=_face(published.vectors["C0"]))
    DuplicateItemFactory.create(performer_a=c, performer_b=d, status="rejected")
    SuspiciousFaceItemFactory.create(face=_face(published.vectors["D1"]), status="rejected")


@pytest.mark.parametrize("kind", ["delta", "full"])
def test_local_merges_removals_and_rejections_survive_an_import(
    bundle_env: Path, kind: str
) -> None:
    published = _publish(bundle_env)
    consumer_wipe()
    bundle_import(path=published.first)
    _curate(published)
    names, vectors = published.names, published.vectors

    bundle_import(path=published.delta if kind == "delta" else published.full)

    # B stays merged into A: what the bundle says about B lands on A.
    assert not Performer.objects.filter(pk=names["B"]).exists()
    a = Performer.objects.get(pk=names["A"])
    assert "B New Alias" in set(a.aliases.values_list("name", flat=True))
    assert _face(vectors["B2"]).performer_id == a.pk
    assert StashId.objects.get(stash_id="stash-1").performer_id == a.pk
    # The face removed here stays removed, though the bundle changed it.
    assert _face(vectors["C0"]).status == "removed"
    # C and D were said to be different people: the publisher's merge is not followed.
    d = Performer.objects.get(pk=names["D"])
    assert _face(vectors["D0"]).performer_id == d.pk
    assert StashId.objects.get(endpoint=STASHDB, stash_id="stash-3").performer_id == d.pk
    # The face a curator kept stays, though the publisher removed it.
    assert _face(vectors["D1"]).status == "active"
    # Everything else follows the bundle, and the gallery answers from the new index.
    assert MergeRecord.objects.filter(actor_label="curator").count() == 1
    answers = search_state(np.stack([face_vector(1, 5)]), k=1)
    assert answers[0][0][0] == str(a.pk)


def test_after_a_local_split_both_identities_follow_the_bundle_again(bundle_env: Path) -> None:
    published = _publish(bundle_env)
    consumer_wipe()
    bundle_import(path=published.first)
    record = performer_merge(
        sources=[Performer.objects.get(pk=published.names["B"])],
        target=Performer.objects.get(pk=published.names["A"]),
        actor="curator",
    )
    performer_split(merge_record=record, actor="curator")

    bundle_import(path=published.delta)

    b = Performer.objects.get(pk=published.names["B"])
    assert "B New Alias" in set(b.aliases.values_list("name", flat=True))
    assert _face(published.vectors["B2"]).performer_id == b.pk
    # C and D were never kept apart here: the publisher's merge is followed.
    assert not Performer.objects.filter(pk=published.names["D"]).exists()
    assert (
        _face(published.vectors["D0"]).performer_id
        == Performer.objects.get(pk=published.names["C"]).pk
    )
    assert not Face.objects.filter(embedding=published.vectors["D1"]).exists()


def test_a_face_or_performer_deleted_here_does_not_come_back(bundle_env: Path) -> None:
    published = _publish(bundle_env)
    consumer_wipe()
    bundle_import(path=published.first)
    _face(published.vectors["A0"]).delete()
    Performer.objects.filter(pk=published.names["B"]).delete()

    bundle_import(path=published.full)

    assert not Face.objects.filter(embedding=published.vectors["A0"]).exists()
    assert not Performer.objects.filter(pk=published.names["B"]).exists()
    assert not Face.objects.filter(embedding=published.vectors["B2"]).exists()
