"""Factories for recognition's models, and synthetic face embeddings.

Embeddings are synthetic 128-d float32 vectors shaped like dlib descriptors: identity centres
about 0.9 apart (L2), faces of one identity about 0.3 from each other.
"""

from __future__ import annotations

import io

import factory
import numpy as np
import numpy.typing as npt
from PIL import Image

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
