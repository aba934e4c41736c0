"""`ExactIndex`: a float32 matrix scanned exactly, and the BLAS thread cap that keeps it fast."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from recognition.index.base import (
    FloatMatrix,
    IndexFileError,
    LabelArray,
    Metric,
    _as_labels,
    _as_vectors,
    _check_unique,
    _empty_result,
    _normalized,
    check_metric,
)
from recognition.index.files import write_atomically

_Scalar = TypeVar("_Scalar", bound=np.generic)


_EXACT_FORMAT_VERSION = 1
# Cap on the (queries x gallery) distance block held at once by the exact scan: 64 MiB.
_EXACT_BLOCK_ELEMENTS = 16 * 1024 * 1024


class ExactIndex:
    """A float32 matrix scanned with one matrix product per block of queries: always exact."""

    def __init__(self, dim: int, metric: Metric, *, capacity: int = 0) -> None:
        self.metric = check_metric(metric)
        self._dim = dim
        self._vectors = np.zeros((capacity, dim), dtype=np.float32)
        self._squared_norms = np.zeros(capacity, dtype=np.float32)
        self._labels = np.zeros(capacity, dtype=np.int64)
        self._live = np.zeros(capacity, dtype=bool)
        self._rows = 0
        self._live_count = 0
        self._max_label = -1

    @classmethod
    def create(cls, dim: int, metric: Metric, *, capacity: int = 0) -> ExactIndex:
        return cls(dim, metric, capacity=capacity)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ExactIndex:
        try:
            with np.load(os.fspath(path), allow_pickle=False) as data:
                version = int(data["format_version"])
                metric = check_metric(str(data["metric"]))
                labels, vectors = data["labels"], data["vectors"]
        except (OSError, KeyError, ValueError) as error:
            raise IndexFileError(f"cannot load exact index {path}: {error}") from error
        if version != _EXACT_FORMAT_VERSION:
            raise IndexFileError(f"{path}: exact index format {version} is not supported")
        index = cls(int(vectors.shape[1]), metric, capacity=int(vectors.shape[0]))
        index.add(labels, vectors)
        return index

    @property
    def dim(self) -> int:
        return self._dim

    def add(self, labels: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        """Insert or replace vectors under `labels`."""
        matrix = _as_vectors(vectors, self._dim)
        ids = _as_labels(labels, matrix.shape[0])
        if not ids.size:
            return
        _check_unique(ids)
        if self.metric == "cosine":
            matrix = _normalized(matrix)
        # Face keys usually grow, so the duplicate check is skipped in the common case.
        if int(ids.min()) <= self._max_label:
            self.remove(ids)
        self._reserve(self._rows + ids.shape[0])
        rows = slice(self._rows, self._rows + ids.shape[0])
        self._vectors[rows] = matrix
        self._squared_norms[rows] = np.einsum("ij,ij->i", matrix, matrix)
        self._labels[rows] = ids
        self._live[rows] = True
        self._rows += ids.shape[0]
        self._live_count += ids.shape[0]
        self._max_label = max(self._max_label, int(ids.max()))

    def _reserve(self, rows: int) -> None:
        capacity = self._vectors.shape[0]
        if rows <= capacity:
            return
        capacity = max(rows, capacity * 3 // 2, 1024)
        self._vectors = _grown(self._vectors, capacity)
        self._squared_norms = _grown(self._squared_norms, capacity)
        self._labels = _grown(self._labels, capacity)
        self._live = _grown(self._live, capacity)

    def remove(self, labels: npt.ArrayLike) -> int:
        """Forget labels; unknown or already removed labels are ignored. Returns count."""
        ids = _as_labels(labels)
        if not ids.size or not self._live_count:
            return 0
        hits = self._live[: self._rows] & np.isin(self._labels[: self._rows], ids)
        removed = int(hits.sum())
        self._live[: self._rows][hits] = False
        self._live_count -= removed
        if self._live_count < self._rows // 2:
            self._compact()
        return removed

    def _compact(self) -> None:
        keep = self._live[: self._rows]
        count = int(keep.sum())
        self._vectors[:count] = self._vectors[: self._rows][keep]
        self._squared_norms[:count] = self._squared_norms[: self._rows][keep]
        self._labels[:count] = self._labels[: self._rows][keep]
        self._live[:count] = True
        self._live[count : self._rows] = False
        self._rows = count

    def __len__(self) -> int:
        return self._live_count

    def __contains__(self, label: object) -> bool:
        if not isinstance(label, int | np.integer):
            return False
        return bool((self._live[: self._rows] & (self._labels[: self._rows] == label)).any())

    def query(self, vectors: npt.ArrayLike, k: int) -> tuple[LabelArray, FloatMatrix]:
        """Exact nearest `k` labels per query row and their distances, nearest first."""
        matrix = _as_vectors(vectors, self._dim)
        width = min(k, self._live_count)
        if width <= 0 or matrix.shape[0] == 0:
            return _empty_result(matrix.shape[0])
        if self.metric == "cosine":
            matrix = _normalized(matrix)
        labels = np.empty((matrix.shape[0], width), dtype=np.int64)
        distances = np.empty((matrix.shape[0], width), dtype=np.float32)
        block = max(1, _EXACT_BLOCK_ELEMENTS // max(1, self._rows))
        for start in range(0, matrix.shape[0], block):
            stop = start + block
            labels[start:stop], distances[start:stop] = self._query_block(matrix[start:stop], width)
        return labels, distances

    def _query_block(self, queries: FloatMatrix, width: int) -> tuple[LabelArray, FloatMatrix]:
        gallery = self._vectors[: self._rows]
        # In place on the product: the (queries x gallery) block is the only big temporary.
        scores = queries @ gallery.T
        scores *= -2.0 if self.metric == "l2" else -1.0
        if self.metric == "l2":
            scores += self._squared_norms[: self._rows]
            scores += np.einsum("ij,ij->i", queries, queries)[:, None]
        else:
            scores += 1.0
        if self._live_count < self._rows:
            scores[:, ~self._live[: self._rows]] = np.inf
        nearest = _smallest_sorted(scores, width)
        best = np.take_along_axis(scores, nearest, axis=1)
        best = np.maximum(best, 0.0)
        if self.metric == "l2":
            best = np.sqrt(best)
        return self._labels[nearest], best.astype(np.float32, copy=False)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the live vectors to `path` atomically (temporary file, then `os.replace`)."""
        write_atomically(path, self._write_to)

    def _write_to(self, temporary_path: str) -> None:
        live = self._live[: self._rows]
        with open(temporary_path, "wb") as handle:
            np.savez(
                handle,
                format_version=np.int64(_EXACT_FORMAT_VERSION),
                metric=np.str_(self.metric),
                labels=self._labels[: self._rows][live],
                vectors=self._vectors[: self._rows][live],
            )

    def iter_batches(self, batch_size: int = 8192) -> Iterator[tuple[LabelArray, FloatMatrix]]:
        """Live (labels, vectors) in batches, as stored (cosine vectors normalised)."""
        for start in range(0, self._rows, batch_size):
            stop = min(start + batch_size, self._rows)
            live = self._live[start:stop]
            if live.any():
                yield self._labels[start:stop][live].copy(), self._vectors[start:stop][live].copy()


def _grown(array: npt.NDArray[_Scalar], capacity: int) -> npt.NDArray[_Scalar]:
    grown = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown


def _smallest_sorted(scores: npt.NDArray[np.floating], width: int) -> npt.NDArray[np.intp]:
    """Column positions of the `width` smallest scores per row, in ascending order."""
    if width < scores.shape[1]:
        candidates = np.argpartition(scores, width - 1, axis=1)[:, :width]
    else:
        candidates = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
    order = np.argsort(np.take_along_axis(scores, candidates, axis=1), axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1)


def set_blas_threads(count: int) -> bool:
    """Cap the threads of numpy's OpenBLAS; False when that library cannot be found.

    An exact scan of one query is a matrix-vector product that OpenBLAS splits over all cores;
    on a busy machine that is several times slower than one thread (1.8 ms vs 12 ms for 100k x
    128 on 2 shared cores). Call once per worker process, like OPENBLAS_NUM_THREADS=1.
    """
    libraries = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for library_path in sorted(libraries.glob("lib*openblas*.so*")):
        library = ctypes.CDLL(str(library_path))  # already loaded by numpy: same handle
        for symbol in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_"):
            setter = getattr(library, symbol, None)
            if setter is not None:
                setter(ctypes.c_int(count))
                return True
    return False
