"""The first index of a profile and its incremental updates (`index_ensure`, `index_update`)."""

from __future__ import annotations

from itertools import count

import numpy as np
import pytest

from performers.services import performer_create
from recognition.configured_profile import profile_for, serving_profile
from recognition.index import ExactIndex, FaceIndex, IndexParams, load_index
from recognition.models import Face, IndexBuild
from recognition.searchable_gallery import gallery_for
from recognition.services import index_build, index_ensure, index_update

pytestmark = pytest.mark.django_db

_seeds = count()


def _faces(number: int) -> list[Face]:
    """Faces with random unit embeddings of the serving profile's size, each of a performer of
    its own."""
    generator = np.random.default_rng(next(_seeds))
    dim = profile_for().dim
    faces: list[Face] = []
    for _ in range(number):
        vector = generator.normal(size=dim).astype(np.float32)
        vector /= np.linalg.norm(vector)
        performer = performer_create(
            name=f"Performer {len(faces)} {generator.integers(1_000_000_000)}"
        )
        faces.append(
            Face.objects.create(
                performer=performer, profile=serving_profile(), embedding=vector.tobytes()
            )
        )
    return faces


def test_index_update_makes_the_first_build_of_a_profile_with_faces() -> None:
    assert index_update() is None  # no faces, no index: nothing to do
    faces = _faces(3)

    build = index_update()

    assert build is not None and build.active and build.faces == 3
    index = load_index(build.path)
    assert len(index) == 3 and all(face.pk in index for face in faces)


def test_an_ensured_empty_index_takes_new_faces_through_updates_and_serves_them() -> None:
    build = index_ensure()
    assert build.active and build.faces == 0
    assert index_ensure().pk == build.pk  # the same build while it exists
    faces = _faces(4)

    updated = index_update()

    assert updated is not None and updated.pk == build.pk and updated.faces == 4
    probe = np.frombuffer(bytes(faces[2].embedding), dtype=np.float32)[None, :]
    nearest = gallery_for().search(probe, 1)[0][0]
    assert nearest.face_id == faces[2].pk and nearest.distance < 1e-3


def test_an_exact_index_grown_past_its_limit_by_updates_becomes_hnsw() -> None:
    _faces(3)
    build = index_build(params=IndexParams(exact_below=8))
    assert build.params["kind"] == "exact"
    assert isinstance(load_index(build.path), ExactIndex)
    faces = _faces(7)

    updated = index_update()

    assert updated is not None and updated.params["kind"] == "hnsw" and updated.faces == 10
    grown = load_index(updated.path)
    assert isinstance(grown, FaceIndex)
    probe = np.frombuffer(bytes(faces[-1].embedding), dtype=np.float32)[None, :]
    labels, _ = grown.query(probe, 1)
    assert int(labels[0][0]) == faces[-1].pk
    assert IndexBuild.objects.filter(active=True).count() == 1


def test_an_index_asked_to_stay_exact_stays_exact() -> None:
    _faces(2)
    index_build(params=IndexParams(kind="exact", exact_below=2))
    _faces(3)

    updated = index_update()

    assert updated is not None and updated.params["kind"] == "exact"
    assert isinstance(load_index(updated.path), ExactIndex)
