"""Gallery vector index: one file per profile, a Voyager HNSW graph or an exact float32 scan.

Labels are caller-chosen non-negative integers (face primary keys), never row positions, so an
index survives deletions and rebuilds. Distances returned to callers are true distances of the
profile's metric: L2 for ``"l2"`` (Voyager itself returns squared L2) and ``1 - cos`` for
``"cosine"``.

Modules: `base` (types, measured defaults, input checks), `hnsw` (FaceIndex), `exact`
(ExactIndex, BLAS threads), `files` (atomic writes) and `building` (IndexParams; create, load,
build).
"""

from recognition.index.base import (
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_EF_SEARCH,
    DEFAULT_EXACT_BELOW,
    DEFAULT_M,
    DEFAULT_STORAGE,
    FloatMatrix,
    IndexFileError,
    IndexKind,
    LabelArray,
    Metric,
    Storage,
    VectorIndex,
    check_metric,
)
from recognition.index.building import (
    BuildStats,
    IndexParams,
    build_from_batches,
    create_index,
    grown_up,
    load_index,
)
from recognition.index.exact import ExactIndex, set_blas_threads
from recognition.index.files import write_atomically
from recognition.index.hnsw import FaceIndex

__all__ = [
    "DEFAULT_EF_CONSTRUCTION",
    "DEFAULT_EF_SEARCH",
    "DEFAULT_EXACT_BELOW",
    "DEFAULT_M",
    "DEFAULT_STORAGE",
    "BuildStats",
    "ExactIndex",
    "FaceIndex",
    "FloatMatrix",
    "IndexFileError",
    "IndexKind",
    "IndexParams",
    "LabelArray",
    "Metric",
    "Storage",
    "VectorIndex",
    "build_from_batches",
    "check_metric",
    "create_index",
    "grown_up",
    "load_index",
    "set_blas_threads",
    "write_atomically",
]
