from __future__ import annotations

import cv2
import numpy as np
import pytest

from curation.face_distances import pairwise_distances, thresholds_for
from recognition.engine import Profile
from recognition.tests.engine.support import FACES, faces_or_skip, read_bgr

pytestmark = pytest.mark.models


def embed_portrait(profile: Profile, relative: str) -> np.ndarray:
    faces = profile.analyze(read_bgr(faces_or_skip(FACES) / relative), max_faces=1)
    assert faces, relative
    return faces[0].embedding


def distance(profile: Profile, a: np.ndarray, b: np.ndarray) -> float:
    """Two embeddings' distance in the profile's own metric."""
    return float(pairwise_distances(a[None], b[None], profile.metric)[0, 0])


def test_photos_of_the_same_person_are_closer_than_photos_of_different_people(
    default_profile: Profile,
) -> None:
    obama = [embed_portrait(default_profile, f"obama/00{n}.jpg") for n in (1, 2, 3)]
    biden = [embed_portrait(default_profile, f"biden/00{n}.jpg") for n in (1, 2)]
    kit = embed_portrait(default_profile, "kit_harington/003.jpg")

    same = [
        distance(default_profile, obama[0], obama[1]),
        distance(default_profile, obama[0], obama[2]),
        distance(default_profile, biden[0], biden[1]),
    ]
    different = [distance(default_profile, a, b) for a in obama for b in [*biden, kit]] + [
        distance(default_profile, biden[0], kit)
    ]

    # The point between the profile's "same person" and "different people" separates them.
    assert max(same) < thresholds_for(default_profile.name).midpoint < min(different)


def test_analyze_returns_a_float32_embedding_and_a_jpeg_of_the_aligned_chip(
    default_profile: Profile,
) -> None:
    image = read_bgr(faces_or_skip(FACES) / "kit_harington" / "003.jpg")

    face = default_profile.analyze(image, max_faces=1)[0]
    again = default_profile.embed(image, [face.detection])

    dim, chip_size = default_profile.dim, default_profile.preprocessing["chip_size"]
    assert face.embedding.dtype == np.float32 and face.embedding.shape == (dim,)
    assert again.shape == (1, dim) and again.dtype == np.float32
    assert np.allclose(again[0], face.embedding, atol=1e-5)
    chip = cv2.imdecode(np.frombuffer(face.crop_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert chip is not None and chip.shape == (chip_size, chip_size, 3)


def test_embedding_no_faces_gives_an_empty_matrix(default_profile: Profile) -> None:
    blank = np.full((200, 200, 3), 127, np.uint8)

    assert default_profile.analyze(blank) == []
    assert default_profile.embed(blank, []).shape == (0, default_profile.dim)
