"""What every index kind shares: types, the measured defaults, the protocol, input checks."""

from __future__ import annotations

import os
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
import voyager

Metric = Literal["l2", "cosine"]
Storage = Literal["float32", "e4m3"]
IndexKind = Literal["auto", "hnsw", "exact"]
FloatMatrix = npt.NDArray[np.float32]
LabelArray = npt.NDArray[np.int64]

# Defaults measured with `manage.py bench_index` (recognition/benchmarks/: synthetic gallery
# fitted to dlib's descriptors, 1-10 faces per identity, 1000 probes = new photos of gallery
# people) on the 2-vCPU dev machine. "agreement" = the identity of the top hit equals exact
# search's; latency = one query, one thread, p50.
#   100k x 128 l2   exact 1.8 ms (64-face batch 30 ms)
#                   M=16 ef=256: 99.1 % 0.49 ms | M=24 ef=256: 99.4 % 0.80 ms
#                   M=32 ef=128: 99.8 % 0.53 ms | M=32 ef=256: 99.9 % 0.89 ms
#                   M=48 ef=96:  99.8 % 0.53 ms (no better than M=32 at equal time)
#   1M x 128 l2     exact 18.6-21 ms (64-face batch 430-470 ms), +512 MB
#                   M=32 ef_construction=200: build 1680 vectors/s (quiet machine), +916 MB
#                   RSS, 788 MB file, load 0.6 s; ef=256: 98.7 % 1.77 ms | ef=288: 98.9 %
#                   1.9-2.1 ms | ef=320: 99.1 % 2.4 ms (p99 3.8 ms)
#                   M=32 ef_construction=400: build 800 vectors/s (21 min for 1M), same
#                   memory and file; ef=192: 98.8 % 1.76 ms | ef=208: 99.0 % 1.98 ms (p99
#                   2.8 ms) | ef=224: 99.1 % 2.1 ms | ef=256: 99.4 % 2.5 ms
#   100k x 512 cos  exact 6.0 ms; M=16 ef=256: 96.9 % 1.6 ms; M=32 ef=256: 99.6 % 3.5 ms
#   1M x 512 cos    exact 118 ms (64-face batch 3.4 s)
#   E4M3 (100k x 128, M=16 ef=256): agreement 98.3 % vs 99.1 % for float32, 2x slower queries
#   and builds, file 0.42x. Float16 exact scans: 100-1000x slower than float32 in numpy
#   (1M: 23 s for a 64-face batch).
# A graph built twice as carefully is searched as well with less effort: ef_construction 400
# and ef 208 is the one setting measured at >= 99 % agreement within 2 ms; the build (once,
# then incremental) takes twice as long.
DEFAULT_M = 32
DEFAULT_EF_CONSTRUCTION = 400
DEFAULT_EF_SEARCH = 208
DEFAULT_STORAGE: Storage = "float32"
# Up to here an exact scan answers in about 2 ms (128-d) or 6 ms (512-d, where HNSW needs
# 3.5 ms for 99.6 %), is always right, and builds instantly.
DEFAULT_EXACT_BELOW = 100_000

_VOYAGER_SPACES: dict[str, voyager.Space] = {
    "l2": voyager.Space.Euclidean,
    "cosine": voyager.Space.Cosine,
}


class IndexFileError(Exception):
    """An index file is missing, of an unknown format, or does not match the profile."""


class VectorIndex(Protocol):
    """What the recognition pipeline needs from an index, whatever its kind."""

    metric: Metric

    @property
    def dim(self) -> int: ...

    def add(self, labels: npt.ArrayLike, vectors: npt.ArrayLike) -> None: ...

    def remove(self, labels: npt.ArrayLike) -> int: ...

    def query(self, vectors: npt.ArrayLike, k: int) -> tuple[LabelArray, FloatMatrix]: ...

    def __len__(self) -> int: ...

    def save(self, path: str | os.PathLike[str]) -> None: ...


# --- input checks -------------------------------------------------------------------------


def check_metric(metric: str) -> Metric:
    if metric not in _VOYAGER_SPACES:
        raise ValueError(f"unknown metric {metric!r}; expected 'l2' or 'cosine'")
    return "l2" if metric == "l2" else "cosine"


def _as_vectors(vectors: npt.ArrayLike, dim: int) -> FloatMatrix:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if not matrix.flags.writeable:  # e.g. np.frombuffer over stored bytes: Voyager refuses it
        matrix = matrix.copy()
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {np.shape(vectors)}")
    if not np.isfinite(matrix).all():
        raise ValueError("vectors contain NaN or infinity")
    return matrix


def _as_labels(labels: npt.ArrayLike, count: int | None = None) -> LabelArray:
    array = np.asarray(labels)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {array.dtype}")
    array = array.astype(np.int64, copy=False).reshape(-1)
    if count is not None and array.shape[0] != count:
        raise ValueError(f"{array.shape[0]} labels for {count} vectors")
    if array.size and array.min() < 0:
        raise ValueError("labels must be non-negative")
    return array


def _check_unique(labels: LabelArray) -> None:
    if np.unique(labels).shape[0] != labels.shape[0]:
        raise ValueError("labels within one add() call must be unique")


def _empty_result(rows: int) -> tuple[LabelArray, FloatMatrix]:
    return np.zeros((rows, 0), dtype=np.int64), np.zeros((rows, 0), dtype=np.float32)


def _normalized(matrix: FloatMatrix) -> FloatMatrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("a zero vector has no cosine direction")
    return (matrix / norms).astype(np.float32, copy=False)
