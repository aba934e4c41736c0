"""Factories for curation tests, and synthetic face galleries.

Embeddings are synthetic 128-d float32 vectors shaped like dlib descriptors: identity centres
about 0.9 apart (L2), faces of one identity about 0.3 from each other.
"""

from __future__ import annotations

import io
from typing import Any

import factory
import numpy as np
import numpy.typing as npt
from PIL import Image

from curation.choices import ReviewKind, ReviewStatus
from curation.models import ReviewItem
from performers.models import Performer
from performers.tests.factories import PerformerFactory
from recognition.models import Face

DIM = 128
PROFILE = "scrfd-dlib"
Vector = npt.NDArray[np.float32]


def identity_centre(seed: int) -> Vector:
    """A random identity: two centres are about 0.9 apart."""
    return np.random.default_rng(seed).normal(0.0, 0.056, DIM).astype(np.float32)


def face_near(centre: Vector, seed: int, spread: float = 0.015) -> Vector:
    """One face of the identity at `centre` (two faces are about 0.24 apart at 0.015)."""
    noise = np.random.default_rng(seed + 10_000).normal(0.0, spread, DIM)
    return (centre + noise).astype(np.float32)


def at_distance(centre: Vector, distance: float, seed: int) -> Vector:
    """A point exactly `distance` (L2) away from `centre`, in a random direction."""
    direction = np.random.default_rng(seed + 20_000).normal(0.0, 1.0, DIM)
    return (centre + distance * direction / np.linalg.norm(direction)).astype(np.float32)


def jpeg_bytes(colour: tuple[int, int, int] = (200, 150, 120), size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


class FaceFactory(factory.django.DjangoModelFactory[Face]):
    class Meta:
        model = Face

    class Params:
        vector = factory.LazyFunction(lambda: identity_centre(np.random.randint(1 << 30)))

    performer = factory.SubFactory(PerformerFactory)
    profile = PROFILE
    box = factory.LazyFunction(lambda: {"x": 0, "y": 0, "w": 100, "h": 100})
    det_score = 0.9
    quality = 0.8
    embedding = factory.LazyAttribute(lambda o: np.asarray(o.vector, dtype=np.float32).tobytes())
    crop = factory.LazyFunction(jpeg_bytes)


def gallery(performer: object, centre: Vector, count: int, seed: int) -> list[Face]:
    """`count` faces of the identity at `centre`, attached to `performer` (seeds apart by
    1000, so galleries made with different seeds share no face)."""
    return [
        FaceFactory.create(performer=performer, vector=face_near(centre, seed * 1000 + i))
        for i in range(count)
    ]


class DuplicateItemFactory(factory.django.DjangoModelFactory[ReviewItem]):
    class Meta:
        model = ReviewItem

    kind = ReviewKind.DUPLICATE
    status = ReviewStatus.OPEN
    performer_a = factory.SubFactory(PerformerFactory)
    performer_b = factory.SubFactory(PerformerFactory)
    score = 0.8
    subject_key = factory.LazyAttribute(
        lambda o: "pair:" + ":".join(sorted([str(o.performer_a.pk), str(o.performer_b.pk)]))
    )
    summary = factory.LazyAttribute(lambda o: f"{o.performer_a} ↔ {o.performer_b}")
    evidence = factory.LazyFunction(
        lambda: [
            {
                "kind": "name_and_face",
                "label": "Same name and similar faces",
                "summary": "both are called 'x' and their faces are close",
                "details": {"distance": 0.41},
            }
        ]
    )


class SuspiciousFaceItemFactory(factory.django.DjangoModelFactory[ReviewItem]):
    class Meta:
        model = ReviewItem

    kind = ReviewKind.SUSPICIOUS_FACE
    status = ReviewStatus.OPEN
    face = factory.SubFactory(FaceFactory)
    score = 0.7
    subject_key = factory.LazyAttribute(lambda o: f"face:{o.face.pk}")
    summary = factory.LazyAttribute(lambda o: f"Face {o.face.pk} of {o.face.performer}")


class LowConfidenceItemFactory(factory.django.DjangoModelFactory[ReviewItem]):
    class Meta:
        model = ReviewItem

    kind = ReviewKind.LOW_CONFIDENCE
    status = ReviewStatus.OPEN
    score = 0.4
    payload = factory.LazyFunction(
        lambda: {"scene_id": "42", "person": 0, "thumbnail": "", "candidates": []}
    )


def duplicate_item(**fields: Any) -> tuple[ReviewItem, Performer, Performer]:
    """An open duplicate item and its two performers."""
    item = DuplicateItemFactory.create(**fields)
    assert item.performer_a is not None and item.performer_b is not None
    return item, item.performer_a, item.performer_b


def suspicious_face_item(**fields: Any) -> tuple[ReviewItem, Face]:
    """An open suspicious-face item and its face."""
    item = SuspiciousFaceItemFactory.create(**fields)
    assert item.face is not None
    return item, item.face
