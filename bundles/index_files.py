"""Index files for bundles: made to hold exactly a given set of faces, written atomically.

The vector index is the one structure that is in memory whole, by nature: the server holds
it the same way. Everything around it (face ids aside, 8 bytes each) is streamed.
"""

from __future__ import annotations

import shutil
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from django.conf import settings

from recognition.choices import FaceStatus
from recognition.index import (
    ExactIndex,
    FaceIndex,
    IndexParams,
    Metric,
    build_from_batches,
    write_atomically,
)
from recognition.models import Face, IndexBuild

IdArray = npt.NDArray[np.int64]
VectorBatches = Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]
BATCH = 2000


def index_path(profile: str, build_id: int) -> Path:
    """Where build `build_id` of `profile` lives (the scheme `index_build` uses too)."""
    directory = Path(settings.INDEX_DIR) / profile
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"build-{build_id}.index"


def params_of(build: IndexBuild | None) -> IndexParams:
    """The parameters a build was made with (its extra bookkeeping keys dropped)."""
    if build is None:
        return IndexParams()
    return IndexParams.from_stored(build.params)


def active_face_ids(profile: str) -> IdArray:
    """Ids of a profile's active faces, ascending, read in keyset pages."""
    ids: array[int] = array("q")
    last = 0
    faces = Face.objects.filter(profile=profile, status=FaceStatus.ACTIVE)
    while True:
        page = list(
            faces.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[: BATCH * 10]
        )
        if not page:
            return np.frombuffer(ids, dtype=np.int64).copy()
        ids.extend(page)
        last = page[-1]


def index_labels(index: FaceIndex | ExactIndex) -> IdArray:
    parts = [labels for labels, _ in index.iter_batches()]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def vectors_from_database(ids: IdArray) -> Iterator[tuple[IdArray, npt.NDArray[np.float32]]]:
    """(labels, vectors) of the given faces, in batches, straight from their rows."""
    for start in range(0, len(ids), BATCH):
        chunk = [int(pk) for pk in ids[start : start + BATCH]]
        rows = Face.objects.filter(pk__in=chunk).order_by("pk").values_list("pk", "embedding")
        labels, vectors = [], []
        for pk, blob in rows:
            labels.append(pk)
            vectors.append(np.frombuffer(bytes(blob), dtype=np.float32))
        if labels:
            yield np.asarray(labels, dtype=np.int64), np.stack(vectors)


def index_reconcile(
    index: FaceIndex | ExactIndex,
    wanted: IdArray,
    *,
    trusted: IdArray | None = None,
    distrusted: IdArray | None = None,
    vectors_of: Callable[[IdArray], VectorBatches] = vectors_from_database,
) -> dict[str, int]:
    """Make `index` hold exactly the faces `wanted`, each under its own vector.

    A label is kept only when it is wanted and still means the face it meant when the index
    was written: it is in `trusted` (when given) and not in `distrusted`. Every other label is
    dropped, and wanted faces not kept are added from their rows.
    """
    labels = index_labels(index)
    kept = np.intersect1d(labels, wanted, assume_unique=True)
    if trusted is not None:
        kept = np.intersect1d(kept, np.unique(trusted), assume_unique=True)
    if distrusted is not None and len(distrusted):
        kept = np.setdiff1d(kept, np.unique(distrusted), assume_unique=True)
    stale = np.setdiff1d(labels, kept, assume_unique=True)
    removed = index.remove(stale) if len(stale) else 0
    missing = np.setdiff1d(wanted, kept, assume_unique=True)
    added = 0
    for batch_labels, vectors in vectors_of(missing):
        index.add(batch_labels, vectors)
        added += len(batch_labels)
    return {"added": added, "removed": removed}


def index_build_file(
    path: Path,
    *,
    dim: int,
    metric: Metric,
    batches: VectorBatches,
    params: IndexParams,
) -> int:
    """A fresh index from `batches`, saved atomically at `path`; returns its size."""
    return build_from_batches(path, dim, metric, batches, params=params).vectors


def file_copy_atomically(source: IO[bytes], path: Path) -> None:
    """Stream `source` into `path` through a temporary file and `os.replace`."""

    def write(temporary: str) -> None:
        with open(temporary, "wb") as handle:
            shutil.copyfileobj(source, handle, length=1024 * 1024)

    write_atomically(path, write)


def stale_index_files_remove(profile: str, keep: int = 2) -> None:
    """Delete the files of all but the newest `keep` inactive builds of a profile."""
    stale = IndexBuild.objects.filter(profile=profile, active=False).order_by("-started_at")[keep:]
    for build in stale:
        Path(build.path).unlink(missing_ok=True)


def index_summary(index: FaceIndex | ExactIndex) -> dict[str, Any]:
    return {"kind": "exact" if isinstance(index, ExactIndex) else "hnsw", "faces": len(index)}
