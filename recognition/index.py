"""Gallery vector index: one file per profile, a Voyager HNSW graph or an exact float32 scan.

Labels are caller-chosen non-negative integers (face primary keys), never row positions, so an
index survives deletions and rebuilds. Distances returned to callers are true distances of the
profile's metric: L2 for ``"l2"`` (Voyager itself returns squared L2) and ``1 - cos`` for
``"cosine"``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import voyager

Metric = Literal["l2", "cosine"]
Storage = Literal["float32", "e4m3"]
IndexKind = Literal["auto", "hnsw", "exact"]
FloatMatrix = npt.NDArray[np.float32]
LabelArray = npt.NDArray[np.int64]
_Scalar = TypeVar("_Scalar", bound=np.generic)

# Defaults measured with `manage.py bench_index` (recognition/benchmarks.py: synthetic gallery
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
_VOYAGER_STORAGE: dict[str, voyager.StorageDataType] = {
    "float32": voyager.StorageDataType.Float32,
    "e4m3": voyager.StorageDataType.E4M3,
}
_VOYAGER_MAGIC = b"VOYA"
_NPZ_MAGIC = b"PK"
_EXACT_FORMAT_VERSION = 1
# Cap on the (queries x gallery) distance block held at once by the exact scan: 64 MiB.
_EXACT_BLOCK_ELEMENTS = 16 * 1024 * 1024


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


@dataclass(frozen=True)
class IndexParams:
    """How to build an index for one profile; `kind="auto"` scans exactly below `exact_below`."""

    kind: IndexKind = "auto"
    M: int = DEFAULT_M
    ef_construction: int = DEFAULT_EF_CONSTRUCTION
    ef_search: int = DEFAULT_EF_SEARCH
    storage: Storage = DEFAULT_STORAGE
    exact_below: int = DEFAULT_EXACT_BELOW


@dataclass(frozen=True)
class BuildStats:
    """What `build_from_batches` did, for job records and the benchmark."""

    kind: Literal["hnsw", "exact"]
    vectors: int
    seconds: float
    vectors_per_second: float
    file_bytes: int


# --- input checks -------------------------------------------------------------------------


def check_metric(metric: str) -> Metric:
    if metric not in _VOYAGER_SPACES:
        raise ValueError(f"unknown metric {metric!r}; expected 'l2' or 'cosine'")
    return "l2" if metric == "l2" else "cosine"


def _as_vectors(vectors: npt.ArrayLike, dim: int) -> FloatMatrix:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
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


# --- atomic files ---------------------------------------------------------------------------


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """Let `write` fill a temporary file next to `path`, then move it into place.

    A crash or an exception while writing leaves the previous file untouched and removes the
    temporary one; `os.replace` in the same directory is atomic on POSIX and Windows.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    os.close(descriptor)
    try:
        # mkstemp makes the file private; index files are shared with the other workers.
        os.chmod(temporary, 0o644)
        write(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, harmless to skip there.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# --- HNSW (Voyager) -------------------------------------------------------------------------


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


# --- exact scan -----------------------------------------------------------------------------


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


# --- choosing, loading, building -------------------------------------------------------------


def create_index(
    dim: int,
    metric: Metric,
    params: IndexParams = IndexParams(),
    *,
    expected_size: int | None = None,
) -> FaceIndex | ExactIndex:
    """An empty index of the kind `params` asks for; "auto" is exact below `exact_below`."""
    if _wants_exact(params, expected_size or 0):
        return ExactIndex.create(dim, metric, capacity=expected_size or 0)
    return FaceIndex.create(
        dim,
        metric,
        M=params.M,
        ef_construction=params.ef_construction,
        ef_search=params.ef_search,
        storage=params.storage,
        max_elements=expected_size or 1,
    )


def _wants_exact(params: IndexParams, size: int) -> bool:
    if params.kind not in ("auto", "hnsw", "exact"):
        raise ValueError(f"unknown index kind {params.kind!r}")
    return params.kind == "exact" or (params.kind == "auto" and size < params.exact_below)


def load_index(
    path: str | os.PathLike[str], *, ef_search: int = DEFAULT_EF_SEARCH
) -> FaceIndex | ExactIndex:
    """Open an index file written by either kind, recognised by its first bytes."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise IndexFileError(f"cannot open index {path}: {error}") from error
    if magic.startswith(_VOYAGER_MAGIC):
        return FaceIndex.load(path, ef_search=ef_search)
    if magic.startswith(_NPZ_MAGIC):
        return ExactIndex.load(path)
    raise IndexFileError(f"{path} is neither a Voyager index nor an exact index")


def build_from_batches(
    path: str | os.PathLike[str],
    dim: int,
    metric: Metric,
    batches: Iterable[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    params: IndexParams = IndexParams(),
    progress: Callable[[int], None] | None = None,
) -> BuildStats:
    """Stream (labels, vectors) batches into a new index and save it atomically at `path`.

    Only the index holds vectors. With kind "auto" the build starts exact and moves its
    vectors into an HNSW graph once it passes `exact_below`, so the size need not be known.
    """
    started = time.perf_counter()
    index: FaceIndex | ExactIndex = create_index(dim, metric, params, expected_size=0)
    for labels, vectors in batches:
        index.add(labels, vectors)
        if isinstance(index, ExactIndex) and not _wants_exact(params, len(index)):
            index = _moved_to_hnsw(index, params)
        if progress is not None:
            progress(len(index))
    index.save(path)
    seconds = time.perf_counter() - started
    return BuildStats(
        kind="exact" if isinstance(index, ExactIndex) else "hnsw",
        vectors=len(index),
        seconds=seconds,
        vectors_per_second=len(index) / seconds if seconds > 0 else 0.0,
        file_bytes=os.path.getsize(path),
    )


def _moved_to_hnsw(exact: ExactIndex, params: IndexParams) -> FaceIndex:
    hnsw = FaceIndex.create(
        exact.dim,
        exact.metric,
        M=params.M,
        ef_construction=params.ef_construction,
        ef_search=params.ef_search,
        storage=params.storage,
        max_elements=len(exact),
    )
    for labels, vectors in exact.iter_batches():
        hnsw.add(labels, vectors)
    return hnsw
