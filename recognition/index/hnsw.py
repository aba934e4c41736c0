"""`FaceIndex`: a Voyager HNSW graph, approximate and fast on large galleries."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import voyager

from recognition.index.base import (
    _VOYAGER_SPACES,
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_EF_SEARCH,
    DEFAULT_M,
    DEFAULT_STORAGE,
    FloatMatrix,
    IndexFileError,
    LabelArray,
    Metric,
    Storage,
    _as_labels,
    _as_vectors,
    _check_unique,
    _empty_result,
    check_metric,
)
from recognition.index.files import write_atomically

_VOYAGER_STORAGE: dict[str, voyager.StorageDataType] = {
    "float32": voyager.StorageDataType.Float32,
    "e4m3": voyager.StorageDataType.E4M3,
}


class FaceIndex:
    """A Voyager HNSW index of one profile's face embeddings, keyed by explicit labels."""

    def __init__(
        self,
        index: voyager.Index,
        metric: Metric,
        *,
        ef_search: int = DEFAULT_EF_SEARCH,
        query_threads: int = 1,
        deleted: set[int] | None = None,
    ) -> None:
        self._index = index
        self.metric = metric
        self.ef_search = ef_search
        # One thread per query batch: a web worker serves one request per core already.
        self.query_threads = query_threads
        # Labels marked deleted. None = not counted yet (after load); counted on first need.
        self._deleted = deleted

    @classmethod
    def create(
        cls,
        dim: int,
        metric: Metric,
        *,
        M: int = DEFAULT_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int = DEFAULT_EF_SEARCH,
        storage: Storage = DEFAULT_STORAGE,
        max_elements: int = 1,
    ) -> FaceIndex:
        if storage not in _VOYAGER_STORAGE:
            raise ValueError(f"unknown storage {storage!r}; expected 'float32' or 'e4m3'")
        index = voyager.Index(
            _VOYAGER_SPACES[check_metric(metric)],
            num_dimensions=dim,
            M=M,
            ef_construction=ef_construction,
            max_elements=max(1, max_elements),
            storage_data_type=_VOYAGER_STORAGE[storage],
        )
        return cls(index, metric, ef_search=ef_search, deleted=set())

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        ef_search: int = DEFAULT_EF_SEARCH,
        query_threads: int = 1,
    ) -> FaceIndex:
        # Voyager keeps space, dimension, storage, M and the graph in the file, but not ef.
        try:
            index = voyager.Index.load(os.fspath(path))
        except (RuntimeError, ValueError) as error:
            raise IndexFileError(f"cannot load Voyager index {path}: {error}") from error
        metric: Metric = "l2" if index.space == voyager.Space.Euclidean else "cosine"
        if index.space not in _VOYAGER_SPACES.values():
            raise IndexFileError(f"{path}: unsupported Voyager space {index.space}")
        return cls(index, metric, ef_search=ef_search, query_threads=query_threads)

    @property
    def dim(self) -> int:
        return int(self._index.num_dimensions)

    @property
    def storage(self) -> Storage:
        return (
            "e4m3" if self._index.storage_data_type == voyager.StorageDataType.E4M3 else "float32"
        )

    @property
    def M(self) -> int:
        return int(self._index.M)

    @property
    def ef_construction(self) -> int:
        return int(self._index.ef_construction)

    def add(self, labels: npt.ArrayLike, vectors: npt.ArrayLike, *, num_threads: int = -1) -> None:
        """Insert or replace vectors under `labels`; a removed label comes back."""
        matrix = _as_vectors(vectors, self.dim)
        ids = _as_labels(labels, matrix.shape[0])
        if not ids.size:
            return
        _check_unique(ids)
        # Explicit ids always: without them Voyager mislabels vectors when num_threads > 1.
        self._index.add_items(matrix, ids=ids.tolist(), num_threads=num_threads)
        if self._deleted:
            self._deleted.difference_update(ids.tolist())

    def remove(self, labels: npt.ArrayLike) -> int:
        """Mark labels deleted; unknown or already removed labels are ignored. Returns count."""
        removed = 0
        for label in _as_labels(labels).tolist():
            if self._deleted is not None and label in self._deleted:
                continue
            try:
                self._index.mark_deleted(label)
            except RuntimeError:  # "Label not found" or "already deleted": nothing to do
                continue
            removed += 1
            if self._deleted is not None:
                self._deleted.add(label)
        return removed

    def __len__(self) -> int:
        return int(self._index.num_elements) - len(self._deleted_labels())

    def __contains__(self, label: object) -> bool:
        if not isinstance(label, int | np.integer) or int(label) < 0:
            return False
        return int(label) in self._index and int(label) not in self._deleted_labels()

    def _deleted_labels(self) -> set[int]:
        # Voyager 2.2's len() and `in` still count deleted items; get_vector refuses them.
        if self._deleted is None:
            deleted = set()
            for label in self._index.ids:
                try:
                    self._index.get_vector(label)
                except RuntimeError:
                    deleted.add(int(label))
            self._deleted = deleted
        return self._deleted

    def query(
        self, vectors: npt.ArrayLike, k: int, *, ef_search: int | None = None
    ) -> tuple[LabelArray, FloatMatrix]:
        """Nearest `k` labels per query row and their distances, nearest first.

        Returns `(n, min(k, len(self)))` arrays; a row the graph cannot fill (possible after
        many deletions) is padded with label -1 and distance inf.
        """
        matrix = _as_vectors(vectors, self.dim)
        width = min(k, len(self))
        if width <= 0 or matrix.shape[0] == 0:
            return _empty_result(matrix.shape[0])
        ef = max(ef_search or self.ef_search, width)
        try:
            found, distances = self._index.query(
                matrix, k=width, num_threads=self.query_threads, query_ef=ef
            )
        except voyager.RecallError:
            found, distances = self._query_each_row(matrix, width, ef)
        return found.astype(np.int64), self._true_distances(distances)

    def _query_each_row(
        self, matrix: FloatMatrix, width: int, ef: int
    ) -> tuple[LabelArray, FloatMatrix]:
        # Deleted nodes still route the search but cannot be returned, so a small or heavily
        # pruned graph may find fewer than `width` live neighbours: take what each row finds.
        found = np.full((matrix.shape[0], width), -1, dtype=np.int64)
        distances = np.full((matrix.shape[0], width), np.inf, dtype=np.float32)
        for row, vector in enumerate(matrix):
            row_k = width
            while row_k > 0:
                try:
                    labels, dists = self._index.query(vector, k=row_k, query_ef=max(ef, 4 * row_k))
                except voyager.RecallError:
                    row_k //= 2
                    continue
                found[row, :row_k] = labels.astype(np.int64)
                distances[row, :row_k] = dists
                break
        return found, distances

    def _true_distances(self, distances: FloatMatrix) -> FloatMatrix:
        finite = np.isfinite(distances)
        clipped = np.where(finite, np.maximum(distances, 0.0), np.inf)
        # E4M3 cosine can dip below zero; Euclidean space reports squared L2.
        result = np.sqrt(clipped) if self.metric == "l2" else clipped
        return result.astype(np.float32, copy=False)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to `path` atomically (temporary file, then `os.replace`)."""
        write_atomically(path, self._write_to)

    def _write_to(self, temporary_path: str) -> None:
        self._index.save(temporary_path)

    def iter_batches(self, batch_size: int = 8192) -> Iterator[tuple[LabelArray, FloatMatrix]]:
        """Live (labels, vectors) in batches, as stored (cosine vectors normalised)."""
        deleted = self._deleted_labels()
        labels = np.fromiter(
            (label for label in self._index.ids if label not in deleted), dtype=np.int64
        )
        for start in range(0, labels.shape[0], batch_size):
            chunk = labels[start : start + batch_size]
            yield chunk, np.asarray(self._index.get_vectors(chunk.tolist()), dtype=np.float32)
