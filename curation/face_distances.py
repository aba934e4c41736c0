"""How alike two face galleries are: pure numpy, no database.

Distances are the profile's metric: L2 for dlib's 128-d descriptors (same person typically
below 0.5, different people above 0.6) and 1 - cos for ArcFace-style embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Metric = Literal["l2", "cosine"]
Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FaceThresholds:
    """Where a profile's distances say "same person" and "different people"."""

    metric: Metric
    same: float
    different: float
    # Name evidence lowers the bar to the midpoint; faces alone must be clearly the same.
    name_and_face_max: float
    face_only_max: float
    # A face this far from the rest of its gallery is suspicious.
    outlier_min: float
    # Strong evidence is not merged automatically when the faces are this far apart.
    contradiction_min: float

    @property
    def midpoint(self) -> float:
        return (self.same + self.different) / 2


PROFILE_THRESHOLDS: dict[str, FaceThresholds] = {
    "scrfd-dlib": FaceThresholds(
        metric="l2",
        same=0.5,
        different=0.6,
        name_and_face_max=0.55,
        face_only_max=0.42,
        outlier_min=0.65,
        contradiction_min=0.75,
    ),
    # From the dev set (../shared/faces, 299 genuine and 8,746 impostor pairs): genuine cosine
    # distances 95 % <= 0.40, 99 % <= 0.46, max 0.59; impostors 0.1 % <= 0.50, min 0.42.
    "scrfd-mobilefacenet": FaceThresholds(
        metric="cosine",
        same=0.40,
        different=0.55,
        name_and_face_max=0.475,
        face_only_max=0.30,
        outlier_min=0.62,
        contradiction_min=0.70,
    ),
}
# ArcFace-style packs (buffalo_l, antelopev2): cosine distance, same person usually < 0.55,
# different > 0.75. Rougher than dlib's numbers; measure on real galleries before trusting.
COSINE_THRESHOLDS = FaceThresholds(
    metric="cosine",
    same=0.55,
    different=0.75,
    name_and_face_max=0.65,
    face_only_max=0.45,
    outlier_min=0.8,
    contradiction_min=0.95,
)


def thresholds_for(profile: str) -> FaceThresholds:
    return PROFILE_THRESHOLDS.get(profile, COSINE_THRESHOLDS)


def pairwise_distances(a: Vectors, b: Vectors, metric: Metric) -> npt.NDArray[np.float32]:
    """(len(a), len(b)) distances between every face of `a` and every face of `b`."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    if metric == "cosine":
        a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return np.clip(1.0 - a @ b.T, 0.0, 2.0).astype(np.float32)
    squared = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(squared, 0.0)).astype(np.float32)


def gallery_distance(a: Vectors, b: Vectors, metric: Metric) -> float | None:
    """How far apart two galleries are; None when either is empty.

    For each face, the distance to the nearest face of the other gallery; the median of those
    per gallery; the larger of the two medians. The median lets a minority of mislabelled
    faces in a gallery go unnoticed, and taking the larger side keeps one look-alike photo in
    gallery b (close to every face of a) from making two people one.
    """
    if len(a) == 0 or len(b) == 0:
        return None
    distances = pairwise_distances(a, b, metric)
    return float(max(np.median(distances.min(axis=1)), np.median(distances.min(axis=0))))


def distance_to_rest(face: Vectors, rest: Vectors, metric: Metric) -> float | None:
    """The median distance of one face to the other faces of its gallery."""
    if len(rest) == 0:
        return None
    return float(np.median(pairwise_distances(face.reshape(1, -1), rest, metric)[0]))


def face_agreement(distance: float, thresholds: FaceThresholds) -> float:
    """0..1, how strongly a gallery distance says "same person": 0.8 at `same`, 0.2 at
    `different`. A ranking score for the queue, not a calibrated probability."""
    scale = (thresholds.different - thresholds.same) / (2 * math.log(4))
    return 1.0 / (1.0 + math.exp((distance - thresholds.midpoint) / scale))


def outlier_score(distance: float, thresholds: FaceThresholds) -> float:
    """0..1, how far a face sits from the rest of its gallery (1 = clearly someone else)."""
    span = thresholds.contradiction_min - thresholds.same
    return float(min(1.0, max(0.0, (distance - thresholds.same) / span)))
