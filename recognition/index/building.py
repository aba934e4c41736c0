"""Choosing, loading and building an index of either kind, and the parameters for it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy.typing as npt

from recognition.index.base import (
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_EF_SEARCH,
    DEFAULT_EXACT_BELOW,
    DEFAULT_M,
    DEFAULT_STORAGE,
    IndexFileError,
    IndexKind,
    Metric,
    Storage,
)
from recognition.index.exact import ExactIndex
from recognition.index.hnsw import FaceIndex

_VOYAGER_MAGIC = b"VOYA"
_NPZ_MAGIC = b"PK"


@dataclass(frozen=True)
class IndexParams:
    """How to build an index for one profile; `kind="auto"` scans exactly below `exact_below`."""

    kind: IndexKind = "auto"
    M: int = DEFAULT_M
    ef_construction: int = DEFAULT_EF_CONSTRUCTION
    ef_search: int = DEFAULT_EF_SEARCH
    storage: Storage = DEFAULT_STORAGE
    exact_below: int = DEFAULT_EXACT_BELOW

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> IndexParams:
        """Parameters from a stored dict (a build's record, a bundle manifest); keys that
        are bookkeeping rather than parameters are dropped."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in stored.items() if key in known})


@dataclass(frozen=True)
class BuildStats:
    """What `build_from_batches` did, for job records and the benchmark."""

    kind: Literal["hnsw", "exact"]
    vectors: int
    seconds: float
    vectors_per_second: float
    file_bytes: int


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
        index = grown_up(index, params)
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


def grown_up(index: FaceIndex | ExactIndex, params: IndexParams) -> FaceIndex | ExactIndex:
    """`index`, or its vectors in an HNSW graph once an "auto" exact index passed
    `exact_below` (by a build, or by the appends of incremental updates)."""
    if isinstance(index, ExactIndex) and not _wants_exact(params, len(index)):
        return _moved_to_hnsw(index, params)
    return index


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
