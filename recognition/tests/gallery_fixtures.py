"""A small real gallery for API tests: real models, real photos, analysed once per session."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from performers.models import Performer
from performers.services import StashIdInput, performer_create
from recognition.choices import FaceOrigin
from recognition.configured_profile import serving_profile_forget
from recognition.engine.detector import primary_face_index
from recognition.engine.images import decode_image
from recognition.engine.types import AnalyzedFace
from recognition.searchable_gallery import galleries_reset
from recognition.services import face_create, index_build
from recognition.tests.engine.support import FACES, default_profile_or_skip

GALLERY_IDENTITIES = [
    "obama",
    "biden",
    "kit_harington",
    "rose_leslie",
    "Bill_Simon",
    "Carmen_Electra",
    "deepface_p01",
    "deepface_p02",
]
STASHDB = "https://stashdb.org/graphql"


@cache
def analyzed_primary_face(path: Path) -> AnalyzedFace:
    profile = default_profile_or_skip()
    image = decode_image(path.read_bytes(), max_pixels=50_000_000)
    faces = profile.analyze(image)
    index = primary_face_index([f.detection for f in faces], image.shape[1], image.shape[0])
    assert index is not None, f"no face in {path}"
    return faces[index]


def photos_of(identity: str) -> list[Path]:
    return sorted(p for p in (FACES / identity).iterdir() if p.suffix in {".jpg", ".jpeg", ".png"})


def gallery_photos(identity: str) -> list[Path]:
    """Up to three photos for the gallery; the last photo of each identity stays a probe."""
    return photos_of(identity)[:-1][:3]


def probe_photo(identity: str) -> str:
    """A photo of `identity` that is not in the gallery, relative to FACES."""
    return str(photos_of(identity)[-1].relative_to(FACES))


@pytest.fixture(autouse=True)
def _fresh_galleries() -> Iterator[None]:
    galleries_reset()
    serving_profile_forget()
    yield
    galleries_reset()
    serving_profile_forget()


@pytest.fixture
def enrolled(db: None) -> dict[str, Performer]:
    """Eight identities, up to three photos each, indexed; each has a StashDB id `stash-<identity>`."""
    if not FACES.is_dir():
        pytest.skip(f"{FACES} is not present")
    profile = default_profile_or_skip()
    performers = {}
    for identity in GALLERY_IDENTITIES:
        performer = performer_create(
            name=identity.replace("_", " "), stash_ids=[StashIdInput(STASHDB, f"stash-{identity}")]
        )
        for path in gallery_photos(identity):
            face_create(
                performer=performer,
                analyzed=analyzed_primary_face(path),
                profile=profile.name,
                origin=FaceOrigin.ENROLL,
            )
        performers[identity] = performer
    index_build()
    return performers
