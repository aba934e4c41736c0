"""Deltas carry what changed since a version, deletions included, and apply only in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bundles.export import bundle_export
from bundles.importer import bundle_import, bundle_last_applied
from bundles.models import BundleExport
from bundles.tests.test_bundle_support import (
    PROFILE,
    active_build_id,
    bundle_env,
    consumer_wipe,
    face_add,
    face_state,
    face_vector,
    graph_state,
    probes,
    publish_gallery,
    search_state,
)
from performers.models import Performer, PerformerAlias, StashId
from performers.services import StashIdInput, performer_alias_add, performer_create, performer_merge
from recognition.models import Face
from recognition.services import face_remove, face_restore
from stashsense.errors import ApplicationError

__all__ = ["bundle_env"]


def _state() -> tuple[Any, ...]:
    return graph_state(), face_state(active_only=True), search_state(probes(6))


def _publish_three_versions(folder: Path) -> tuple[list[BundleExport], list[tuple[Any, ...]]]:
    """B0 full, B1 and B2 deltas, with the publisher's state after each."""
    people = publish_gallery(performers=5, faces_each=3)
    states, exports = [_state()], [bundle_export(destination=folder / "b0.zip")]

    newcomer = performer_create(
        name="Performer 5", stash_ids=[StashIdInput("https://fansdb.cc/graphql", "f5")]
    )
    for i in range(2):
        face_add(newcomer, face_vector(5, 500 + i))
    performer_alias_add(performer=people[0], name="Newer 0")
    Performer.objects.filter(pk=people[0].pk).update(country="CA")
    StashId.objects.create(performer=people[1], endpoint="https://fansdb.cc/graphql", stash_id="f1")
    removed = Face.objects.filter(performer=people[2]).first()
    assert removed is not None
    face_remove(face=removed)
    states.append(_state())
    exports.append(bundle_export(destination=folder / "b1.zip", since=exports[0].version))

    performer_merge(sources=[people[3]], target=people[4], actor="publisher")
    Performer.objects.filter(pk=newcomer.pk).delete()
    face_restore(face=removed)
    PerformerAlias.objects.filter(performer=people[0], name="Other 0").delete()
    states.append(_state())
    exports.append(bundle_export(destination=folder / "b2.zip", since=exports[1].version))
    return exports, states


def test_deltas_applied_in_order_reach_the_publishers_state_at_each_version(
    bundle_env: Path,
) -> None:
    exports, states = _publish_three_versions(bundle_env)
    consumer_wipe()

    for export, state in zip(exports, states, strict=True):
        record = bundle_import(path=Path(export.path))
        assert record.status == "done"
        graph, faces, answers = _state()
        assert graph == state[0], f"graph after {export.kind} bundle {export.version}"
        assert faces == state[1], f"faces after {export.kind} bundle {export.version}"
        assert answers == state[2], f"search after {export.kind} bundle {export.version}"
    last = bundle_last_applied(profile=PROFILE)
    assert last is not None and last.version == exports[2].version


def test_a_delta_carries_only_what_changed_and_what_was_deleted(bundle_env: Path) -> None:
    exports, _ = _publish_three_versions(bundle_env)

    first, second = exports[1].counts, exports[2].counts

    assert (first["performers"], first["faces"], first["deleted_faces"]) == (3, 2, 1)
    assert first["deleted_performers"] == 0
    # the merge moved three faces to Performer 4 and the removed face came back
    assert (second["performers"], second["faces"]) == (2, 4)
    assert (second["deleted_performers"], second["deleted_faces"]) == (2, 2)


def test_a_delta_with_a_gap_is_refused_and_changes_nothing(bundle_env: Path) -> None:
    exports, states = _publish_three_versions(bundle_env)
    consumer_wipe()
    bundle_import(path=Path(exports[0].path))
    build = active_build_id()

    with pytest.raises(ApplicationError) as refusal:
        bundle_import(path=Path(exports[2].path))

    assert refusal.value.code == "bundle_gap"
    assert (
        exports[1].version in refusal.value.message or exports[0].version in refusal.value.message
    )
    assert _state() == states[0] and active_build_id() == build


def test_a_delta_before_any_full_bundle_and_a_delta_applied_twice_are_refused(
    bundle_env: Path,
) -> None:
    exports, _ = _publish_three_versions(bundle_env)
    consumer_wipe()
    with pytest.raises(ApplicationError) as nothing_yet:
        bundle_import(path=Path(exports[1].path))
    bundle_import(path=Path(exports[0].path))
    bundle_import(path=Path(exports[1].path))

    with pytest.raises(ApplicationError) as twice:
        bundle_import(path=Path(exports[1].path))

    assert nothing_yet.value.code == "bundle_gap"
    assert twice.value.code == "bundle_already_applied"


def test_a_delta_since_an_unknown_version_is_refused(bundle_env: Path) -> None:
    publish_gallery(performers=1, faces_each=1)

    with pytest.raises(ApplicationError) as refusal:
        bundle_export(destination=bundle_env / "x.zip", since="20000101T000000Z-000001")

    assert refusal.value.code == "bundle_unknown_base"


def test_a_full_bundle_after_deltas_brings_a_consumer_to_the_latest_state(
    bundle_env: Path,
) -> None:
    exports, states = _publish_three_versions(bundle_env)
    latest = bundle_export(destination=bundle_env / "full.zip")
    consumer_wipe()
    bundle_import(path=Path(exports[0].path))

    bundle_import(path=Path(latest.path))

    assert _state() == states[2]
