"""Factories for recognition's models, and synthetic face embeddings.

Faces are made for the default profile (its name, dimension and metric), as a new install
would have them. Identity centres are random unit vectors, so two identities are about 1.0
apart (cosine) or 1.4 apart (L2); faces of one identity lie `FACE_RADIUS` (L2) from their
centre, about 0.03 (cosine) or 0.24 (L2) from each other: clearly "different people" and
clearly "the same person" under every profile's thresholds. `at_distance` places a vector at
an exact distance in the profile's metric, for tests that need a face in between.
"""

from __future__ import annotations

import io

import factory
import numpy as np
import numpy.typing as npt
from PIL import Image

from performers.tests.factories import PerformerFactory
from recognition.engine.profile_registry import DEFAULT_PROFILE
from recognition.engine.scrfd_dlib import ScrfdDlibProfile
from recognition.engine.scrfd_mobilefacenet import ScrfdMobileFaceNetProfile
from recognition.engine.types import Metric
from recognition.models import Face

# Each profile's embedding shape, read from its class: no model has to be loaded.
SHAPES: dict[str, tuple[int, Metric]] = {
    profile.name: (profile.dim, profile.metric)
    for profile in (ScrfdDlibProfile, ScrfdMobileFaceNetProfile)
}
PROFILE = DEFAULT_PROFILE
DIM, METRIC = SHAPES[PROFILE]
FACE_RADIUS = 0.17
Vector = npt.NDArray[np.float32]


def identity_centre(seed: int, dim: int = DIM) -> Vector:
    """A random identity: a unit vector in a random direction."""
    direction = np.random.default_rng(seed).normal(0.0, 1.0, dim)
    return (direction / np.linalg.norm(direction)).astype(np.float32)


def face_near(centre: Vector, seed: int, radius: float = FACE_RADIUS) -> Vector:
    """One face of the identity at `centre`, about `radius` (L2) from it."""
    noise = np.random.default_rng(seed + 10_000).normal(
        0.0, radius / np.sqrt(len(centre)), len(centre)
    )
    return (centre + noise).astype(np.float32)


def at_distance(centre: Vector, distance: float, seed: int, metric: Metric = METRIC) -> Vector:
    """A point exactly `distance` away from `centre` in `metric`, in a random direction."""
    direction = np.random.default_rng(seed + 20_000).normal(0.0, 1.0, len(centre))
    if metric == "l2":
        return (centre + distance * direction / np.linalg.norm(direction)).astype(np.float32)
    # Cosine: turn `centre` by the angle whose 1 - cos is `distance`, towards a direction
    # orthogonal to it, keeping its length.
    length = float(np.linalg.norm(centre))
    axis = centre / length
    across = direction - (direction @ axis) * axis
    across /= np.linalg.norm(across)
    cosine = 1.0 - distance
    sine = np.sqrt(max(0.0, 1.0 - cosine * cosine))
    return (length * (cosine * axis + sine * across)).astype(np.float32)


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
