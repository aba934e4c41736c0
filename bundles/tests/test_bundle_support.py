"""Shared pieces of the bundle tests: a synthetic publisher gallery and state snapshots.

The publisher and the consumer share the test database, one after the other: a test builds
the publisher's gallery, exports, then `consumer_wipe()` leaves an empty consumer (the export
ledger, which only a publisher has, stays) and the bundles are imported into it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import LazySettings

from bundles.export_records import performer_record_batches
from bundles.models import BundleEntry, BundleImport
from curation.models import ReviewItem
from performers.models import BodyModification, MergeRecord, Performer, Source
from performers.services import StashIdInput, performer_create, source_upsert
from recognition.models import Face, IndexBuild, SourceImage
from recognition.searchable_gallery import galleries_reset, gallery_for
from recognition.services import index_build
from recognition.tests.engine.support import default_profile_or_skip
from recognition.tests.factories import PROFILE, face_near, identity_centre, jpeg_bytes

STASHDB = "https://stashdb.org/graphql"
SOURCE_KEY = "publisher-secret-api-key"


@pytest.fixture
def bundle_env(db: None, settings: LazySettings, tmp_path: Path) -> Iterator[Path]:
    """Index files under a temporary folder, the real profile loaded; yields a work folder."""
    default_profile_or_skip()
    settings.INDEX_DIR = tmp_path / "index"
    settings.DATA_DIR = tmp_path
    galleries_reset()
    yield tmp_path
    galleries_reset()


def face_add(performer: Performer, vector: np.ndarray, *, image: SourceImage | None = None) -> Face:
    return Face.objects.create(
        performer=performer,
        profile=PROFILE,
        box={"x": 1, "y": 2, "w": 100, "h": 120},
        landmarks=[[1.0, 2.0]],
        det_score=0.9,
        quality=0.8,
        quality_details={"blur": 0.1},
        embedding=np.asarray(vector, dtype=np.float32).tobytes(),
        crop=jpeg_bytes((int(vector[0] * 1000) % 255, 100, 100)),
        image=image,
    )


def publish_gallery(performers: int = 5, faces_each: int = 3) -> list[Performer]:
    """A publisher's gallery: a stash-box source, performers with rows of every kind, faces."""
    source, _ = source_upsert(name="stashdb", kind="stashbox", url=STASHDB, api_key=SOURCE_KEY)
    people = []
    for n in range(performers):
        person = performer_create(
            name=f"Performer {n}",
            aliases=[f"Alias {n}", f"Other {n}"],
            urls=[f"https://twitter.com/performer{n}"],
            stash_ids=[StashIdInput(STASHDB, f"stash-{n}")],
            country="US",
            height_cm=160 + n,
        )
        person.stash_ids.update(source=source)
        BodyModification.objects.create(performer=person, kind="tattoo", location=f"arm {n}")
        image = SourceImage.objects.create(
            performer=person,
            source=source,
            url=f"https://stashdb.org/images/{n}",
            sha256=f"{n:064d}",
        )
        for i in range(faces_each):
            face_add(
                person, face_near(identity_centre(n), n * 100 + i), image=image if i == 0 else None
            )
        people.append(person)
    index_build(profile=PROFILE)
    return people


def consumer_wipe() -> None:
    """Forget the gallery and everything local, as on a fresh install (the ledger stays)."""
    ReviewItem.objects.all().delete()
    MergeRecord.objects.all().delete()
    Performer.objects.all().delete()
    Source.objects.all().delete()
    IndexBuild.objects.all().delete()
    BundleImport.objects.all().delete()
    BundleEntry.objects.all().delete()
    galleries_reset()


def graph_state() -> list[dict[str, Any]]:
    """Every performer as its bundle record (sources by URL, so local ids do not matter)."""
    urls = dict(Source.objects.values_list("pk", "url"))
    return [record for batch in performer_record_batches(urls) for record in batch]


def face_state(*, active_only: bool = False) -> dict[bytes, tuple[str, bytes, str]]:
    """Faces keyed by embedding: (performer, crop, status)."""
    faces = Face.objects.filter(status="active") if active_only else Face.objects.all()
    return {
        bytes(embedding): (str(performer), bytes(crop), status)
        for embedding, performer, crop, status in faces.values_list(
            "embedding", "performer_id", "crop", "status"
        )
    }


def search_state(probes: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
    """What the gallery answers for each probe: (performer, distance) of the nearest faces."""
    galleries_reset()
    return [
        [(n.performer_id, round(n.distance, 4)) for n in row]
        for row in gallery_for(PROFILE).search(probes.astype(np.float32), k)
    ]


def probes(count: int = 5) -> np.ndarray:
    return np.stack([face_near(identity_centre(n), 9000 + n) for n in range(count)])


def rewrite_bundle(source: Path, target: Path, changes: dict[str, bytes]) -> None:
    """A copy of a bundle with some members replaced (checksums left as they were)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = changes.get(info.filename, old.read(info.filename))
            new.writestr(info, data)


def active_build_id() -> int | None:
    build = IndexBuild.objects.filter(profile=PROFILE, active=True).first()
    return build.pk if build else None


__all__ = [
    "PROFILE",
    "STASHDB",
    "active_build_id",
    "bundle_env",
    "consumer_wipe",
    "face_add",
    "face_state",
    "graph_state",
    "probes",
    "publish_gallery",
    "rewrite_bundle",
    "search_state",
]
