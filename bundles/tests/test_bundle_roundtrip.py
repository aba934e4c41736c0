"""A full bundle carries the whole gallery: export, wipe, import gives the same gallery back."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.management.color import no_style
from django.db import connection

from bundles.export import bundle_export
from bundles.importer import bundle_import, bundle_last_applied
from bundles.models import BundleExport
from bundles.tests.test_bundle_support import (
    PROFILE,
    STASHDB,
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
from performers.models import Performer
from recognition.choices import FaceOrigin
from recognition.identification import identify_image
from recognition.models import Face, IndexBuild
from recognition.tests.engine.support import FACES, default_profile_or_skip
from recognition.tests.gallery_fixtures import probe_photo

__all__ = ["bundle_env"]


def test_a_full_bundle_round_trips_the_graph_faces_and_search_results(bundle_env: Path) -> None:
    publish_gallery()
    graph, faces, answers = graph_state(), face_state(), search_state(probes())
    assert len(graph) == Performer.objects.count() == 5
    calibration = {"kind": "test", "threshold": 0.42}
    IndexBuild.objects.filter(active=True).update(calibration=calibration)
    export = bundle_export(destination=bundle_env / "gallery.zip")
    consumer_wipe()

    record = bundle_import(path=Path(export.path))

    assert record.status == "done" and record.version == export.version
    assert graph_state() == graph
    assert face_state() == faces
    assert search_state(probes()) == answers
    build = IndexBuild.objects.get(active=True)
    with zipfile.ZipFile(export.path) as archive:  # a fresh gallery uses the bundle's index
        assert Path(build.path).read_bytes() == archive.read("index.bin")
    assert build.calibration == calibration
    assert build.faces == len(faces) and record.index_build == build
    assert set(Face.objects.values_list("origin", flat=True)) == {FaceOrigin.BUNDLE}
    assert bundle_last_applied(profile=PROFILE) == record


def test_the_manifest_names_versions_profile_counts_sources_and_checksums_never_keys(
    bundle_env: Path,
) -> None:
    publish_gallery(performers=3, faces_each=2)
    profile = default_profile_or_skip()

    export = bundle_export(destination=bundle_env)

    path = Path(export.path)
    assert path.parent == bundle_env and export.version in path.name
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        members = {name: archive.read(name) for name in archive.namelist()}
    assert archive.namelist()[0] == "manifest.json"
    assert manifest["version"] == export.version and manifest["kind"] == "full"
    assert manifest["format_version"] == 1 and manifest["min_app_version"]
    assert manifest["profile"]["name"] == PROFILE
    assert manifest["profile"]["model_hashes"] == profile.model_hashes()
    assert manifest["counts"]["performers"] == 3 and manifest["counts"]["faces"] == 6
    assert manifest["sources"] == [
        {"name": "stashdb", "kind": "stashbox", "url": STASHDB, "priority": 100, "watermark": None}
    ]
    assert set(manifest["files"]) == {
        "performers.jsonl",
        "faces.jsonl",
        "embeddings.f32",
        "crops.bin",
        "index.bin",
    }
    assert len(members["embeddings.f32"]) == 6 * profile.dim * 4
    assert not any(b"publisher-secret-api-key" in data for data in members.values())
    assert BundleExport.objects.get(pk=export.pk).status == "done"


def test_faces_added_after_an_import_get_ids_past_the_imported_ones(bundle_env: Path) -> None:
    publish_gallery(performers=2, faces_each=2)
    export = bundle_export(destination=bundle_env / "gallery.zip")
    consumer_wipe()
    restart = connection.ops.sequence_reset_by_name_sql(
        no_style(), [{"table": Face._meta.db_table, "column": "id"}]
    )
    with connection.cursor() as cursor:  # a fresh install's face ids start at 1
        for statement in restart:
            cursor.execute(statement)
    bundle_import(path=Path(export.path))
    imported = set(Face.objects.values_list("pk", flat=True))

    owner = Performer.objects.first()
    assert owner is not None
    local = face_add(owner, face_vector(50, 0))

    assert local.pk > max(imported)


def test_importing_the_same_full_bundle_again_changes_nothing(bundle_env: Path) -> None:
    publish_gallery(performers=3)
    export = bundle_export(destination=bundle_env / "gallery.zip")
    consumer_wipe()
    bundle_import(path=Path(export.path))
    graph, faces = graph_state(), face_state()

    again = bundle_import(path=Path(export.path))

    assert graph_state() == graph and face_state() == faces
    assert again.counts.get("faces_created", 0) == 0
    assert again.counts.get("performers_created", 0) == 0


def test_a_full_import_beside_local_faces_keeps_them_and_moves_colliding_ids(
    bundle_env: Path,
) -> None:
    publish_gallery(performers=3, faces_each=2)
    bundle_ids = sorted(Face.objects.values_list("pk", flat=True))
    export = bundle_export(destination=bundle_env / "gallery.zip")
    consumer_wipe()
    local = Performer.objects.create(name="Enrolled Here")
    vectors = [face_vector(50, i) for i in range(4)]  # an identity the bundle lacks
    mine = [face_add(local, vector) for vector in vectors]
    for face, taken in zip(mine, bundle_ids, strict=False):  # local faces hold bundle ids
        Face.objects.filter(pk=face.pk).update(id=taken)

    record = bundle_import(path=Path(export.path))

    assert Face.objects.filter(pk__in=bundle_ids[:4], performer=local).count() == 4
    assert Face.objects.count() == 4 + 6
    assert record.counts["faces_created"] == 6
    answers = search_state(np.stack([vectors[0], *probes(3)]), k=1)
    assert answers[0][0][0] == str(local.pk)
    names = [Performer.objects.get(pk=row[0][0]).name for row in answers[1:]]
    assert names == ["Performer 0", "Performer 1", "Performer 2"]


@pytest.mark.models
def test_identify_after_an_import_names_the_enrolled_performer(
    bundle_env: Path, enrolled: dict[str, Performer]
) -> None:
    export = bundle_export(destination=bundle_env / "gallery.zip")
    consumer_wipe()
    assert not Performer.objects.exists()

    bundle_import(path=Path(export.path))

    result = identify_image(data=(FACES / probe_photo("obama")).read_bytes())
    best = result.faces[0].matches[0].performer
    assert best.name == "obama"
    assert [(s.endpoint, s.stash_id) for s in best.stash_ids.all()] == [(STASHDB, "stash-obama")]
    assert result.index_version.startswith(f"{PROFILE}:")


def test_incremental_syncs_continue_from_the_publishers_watermark(bundle_env: Path) -> None:
    from datetime import UTC, datetime

    from performers.models import Source
    from scraping.choices import RunStatus, SyncKind
    from scraping.models import SyncRun
    from scraping.selectors import source_watermark

    publish_gallery(performers=2, faces_each=1)
    published = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    SyncRun.objects.create(
        source=Source.objects.get(url=STASHDB), status=RunStatus.DONE, watermark=published
    )
    export = bundle_export(destination=bundle_env / "gallery.zip")
    consumer_wipe()
    own = Source.objects.create(name="my stashdb", kind="stashbox", url=STASHDB, api_key="k")
    SyncRun.objects.create(
        source=own, status=RunStatus.DONE, watermark=datetime(2026, 10, 1, tzinfo=UTC)
    )

    bundle_import(path=Path(export.path))

    assert source_watermark(source=own) == published  # newer than the consumer's own
    adopted = SyncRun.objects.get(source=own, kind=SyncKind.BUNDLE)
    assert adopted.status == RunStatus.DONE and export.version in adopted.log[0]["message"]

    SyncRun.objects.create(
        source=own, status=RunStatus.DONE, watermark=datetime(2026, 11, 20, tzinfo=UTC)
    )
    bundle_import(path=Path(export.path))  # an older watermark never moves it back
    assert source_watermark(source=own) == datetime(2026, 11, 20, tzinfo=UTC)
    assert SyncRun.objects.filter(source=own, kind=SyncKind.BUNDLE).count() == 1


def _face_ids_restart() -> None:
    """A fresh install's face ids start at 1 (the publisher's faces moved the sequence)."""
    restart = connection.ops.sequence_reset_by_name_sql(
        no_style(), [{"table": Face._meta.db_table, "column": "id"}]
    )
    with connection.cursor() as cursor:
        for statement in restart:
            cursor.execute(statement)


def test_importing_into_a_gallery_with_faces_mixes_kept_and_new_ids_without_collisions(
    bundle_env: Path,
) -> None:
    # On PostgreSQL the faces under a free bundle id and those given a new id used to meet:
    # the new ones came from a sequence still below the explicit ones (duplicate key).
    _face_ids_restart()
    publish_gallery(performers=3, faces_each=2)
    bundle_ids = sorted(Face.objects.values_list("pk", flat=True))
    export = bundle_export(destination=bundle_env / "gallery.zip")
    consumer_wipe()
    _face_ids_restart()
    local = Performer.objects.create(name="Enrolled Here")
    mine = [face_add(local, face_vector(50, i)) for i in range(3)]
    assert {face.pk for face in mine} <= set(bundle_ids)  # the local faces hold bundle ids

    record = bundle_import(path=Path(export.path))

    assert record.status == "done" and record.counts["faces_created"] == 6
    assert Face.objects.count() == 3 + 6
    later = face_add(local, face_vector(50, 9))  # the sequence is past every imported id
    assert later.pk > max(Face.objects.exclude(pk=later.pk).values_list("pk", flat=True))
    answers = search_state(probes(3), k=1)
    names = [Performer.objects.get(pk=row[0][0]).name for row in answers]
    assert names == ["Performer 0", "Performer 1", "Performer 2"]
