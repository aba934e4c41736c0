"""A database made by the previous release migrates forward with every row intact.

The previous release kept library scans and bundles in recognition; this one gives them the
apps `stash` and `bundles` with their tables kept (`db_table`). The test rolls the test database
back to the previous release's leaf migrations, writes rows through the historical models,
migrates forward and reads every row through today's models.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bundles.models import BundleEntry, BundleExport, BundleImport, BundleLedgerEntry
from recognition.models import Face, IndexBuild
from stash.models import SceneScan, SceneSuggestion

Target = tuple[str, str | None]

# The leaves of the previous release; `stash` and `bundles` did not exist yet.
PREVIOUS_RELEASE: list[Target] = [
    ("stashsense", "0001_initial"),
    ("performers", "0002_performer_normalized_name"),
    ("recognition", "0003_bundles"),
    ("scraping", "0003_syncrun_kind_bundle"),
    ("curation", "0001_initial"),
    ("stash", None),
    ("bundles", None),
]
NEW_APPS = ("stash", "bundles")
MOVED = {
    "stash": (SceneScan, SceneSuggestion),
    "bundles": (BundleExport, BundleImport, BundleEntry, BundleLedgerEntry),
}


def _current_leaves() -> list[Target]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _previous_targets() -> list[Target]:
    """Our apps at the previous release; Django's own apps at their leaves, as then."""
    ours = {app for app, _ in PREVIOUS_RELEASE}
    return PREVIOUS_RELEASE + [leaf for leaf in _current_leaves() if leaf[0] not in ours]


def _migrate(targets: list[Target]) -> Apps:
    """Migrate the test database to `targets`; the historical models there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # the plan above changed what is applied
    # (app, None) is an app left unmigrated: it has no state to build.
    applied = [(app, name) for app, name in targets if name is not None]
    return executor.loader.project_state(applied).apps


@pytest.fixture
def previous_release(transactional_db: None) -> Iterator[Apps]:
    """The test database as the previous release left it; fully migrated again afterwards,
    even when the test fails, so the tests after it find today's schema."""
    try:
        old = _migrate(_previous_targets())
        # The test database was made by today's release, whose content types for the moved
        # models the previous release never had.
        _model(old, "contenttypes.ContentType").objects.filter(app_label__in=NEW_APPS).delete()
        yield old
    finally:
        _migrate(_current_leaves())


def _model(apps: Apps, label: str) -> Any:
    """A historical model (they have no static type)."""
    return apps.get_model(label)


def _rows(model: Any) -> list[dict[str, Any]]:
    return list(model.objects.order_by("pk").values())


def _fill(old: Apps) -> dict[str, Any]:
    """One row of each kind the move touches, through the previous release's models."""
    performer = _model(old, "performers.Performer").objects.create(
        name="Ada Example", normalized_name="ada example"
    )
    face = _model(old, "recognition.Face").objects.create(
        performer=performer,
        profile="scrfd-dlib",
        embedding=b"\x00\x01" * 256,
        box={"x": 1, "y": 2, "w": 30, "h": 40},
        quality=0.7,
    )
    build = _model(old, "recognition.IndexBuild").objects.create(
        profile="scrfd-dlib", path="/data/index/1.idx", status="done", active=True, faces=1
    )
    scan = _model(old, "recognition.SceneScan").objects.create(
        status="done", options={"max_scenes": 5}, total=9, identified=3
    )
    _model(old, "recognition.SceneSuggestion").objects.create(
        stash_scene_id="4711", result={"persons": []}, persons=1, origin="scan", scan=scan
    )
    _model(old, "recognition.BundleExport").objects.create(
        profile="scrfd-dlib", version="v1", status="done", counts={"faces": 1}
    )
    _model(old, "recognition.BundleImport").objects.create(
        profile="scrfd-dlib", version="v1", status="done", origin="/tmp/v1.zip", index_build=build
    )
    _model(old, "recognition.BundleEntry").objects.create(
        kind="face", profile="scrfd-dlib", key=str(face.pk), face=face, seen_in=1
    )
    _model(old, "recognition.BundleLedgerEntry").objects.create(
        kind="performer", key=str(performer.pk), digest="d" * 64, changed_in=1
    )
    content_type = _model(old, "contenttypes.ContentType").objects.create(
        app_label="recognition", model="scenescan"
    )
    permission = _model(old, "auth.Permission").objects.create(
        content_type=content_type, codename="view_scenescan", name="Can view scene scan"
    )
    rows = {
        model.__name__: _rows(_model(old, f"recognition.{model.__name__}"))
        for models in MOVED.values()
        for model in models
    }
    return {
        "rows": rows,
        "face": face.pk,
        "build": build.pk,
        "scan": scan.pk,
        "perm": permission.pk,
    }


def test_scans_bundles_and_their_permissions_survive_the_move_to_their_own_apps(
    previous_release: Apps,
) -> None:
    before = _fill(previous_release)

    now = _migrate(_current_leaves())

    for models in MOVED.values():
        for model in models:
            assert _rows(model) == before["rows"][model.__name__], model.__name__
    assert SceneSuggestion.objects.get().scan == SceneScan.objects.get(pk=before["scan"])
    assert BundleImport.objects.get().index_build == IndexBuild.objects.get(pk=before["build"])
    assert BundleEntry.objects.get().face == Face.objects.get(pk=before["face"])
    assert Face.objects.get().performer.name == "Ada Example"
    permission = _model(now, "auth.Permission").objects.get(pk=before["perm"])
    assert (permission.content_type.app_label, permission.content_type.model) == (
        "stash",
        "scenescan",
    )
