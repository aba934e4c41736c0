"""Nearest gallery faces of other performers, for "these faces look like that person".

Resolution asks this for every upserted performer, so it must not load the whole gallery per
call. With an active index build of the profile it searches the process's loaded gallery
(`recognition.searchable_gallery`, the same one identification uses: the index file plus faces added
since); without one the database is scanned in chunks, which is fine for small galleries and
skipped above `DATABASE_SCAN_LIMIT` faces.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from curation.face_distances import Metric, Vectors, pairwise_distances
from performers.models import Performer
from recognition.choices import FaceStatus
from recognition.models import Face
from recognition.searchable_gallery import Gallery, NoIndexYet, gallery_for

logger = logging.getLogger(__name__)

DATABASE_SCAN_LIMIT = 200_000
_SCAN_CHUNK = 4096


@dataclass(frozen=True)
class Neighbour:
    face_id: int
    distance: float
    performer_id: Any = None  # when the search knows it already (the loaded gallery does)


class FaceSearch(Protocol):
    def nearest(self, queries: Vectors, *, k: int) -> list[Neighbour]:
        """The `k` nearest faces of every query row, all rows together."""
        ...


def _top_k(labels: np.ndarray, distances: np.ndarray, k: int) -> list[Neighbour]:
    """Keep the k nearest per query row; labels/distances are (queries, candidates)."""
    found: list[Neighbour] = []
    for row_labels, row_distances in zip(labels, distances, strict=True):
        order = np.argsort(row_distances, kind="stable")[:k]
        found.extend(
            Neighbour(int(row_labels[i]), float(row_distances[i]))
            for i in order
            if row_labels[i] >= 0 and np.isfinite(row_distances[i])
        )
    return found


class DatabaseFaceScan:
    """Exact scan over active faces of a profile, streamed from the database in chunks."""

    def __init__(self, *, profile: str, metric: Metric) -> None:
        self.profile = profile
        self.metric = metric

    def nearest(self, queries: Vectors, *, k: int) -> list[Neighbour]:
        if len(queries) == 0:
            return []
        rows = (
            Face.objects.filter(profile=self.profile, status=FaceStatus.ACTIVE)
            .order_by("pk")
            .values_list("pk", "embedding")
            .iterator(chunk_size=_SCAN_CHUNK)
        )
        best_labels = np.full((len(queries), 0), -1, dtype=np.int64)
        best_distances = np.zeros((len(queries), 0), dtype=np.float32)
        chunk: list[tuple[int, bytes]] = []
        for row in rows:
            chunk.append((row[0], bytes(row[1])))
            if len(chunk) == _SCAN_CHUNK:
                best_labels, best_distances = self._merge(
                    queries, chunk, best_labels, best_distances, k
                )
                chunk = []
        if chunk:
            best_labels, best_distances = self._merge(
                queries, chunk, best_labels, best_distances, k
            )
        return _top_k(best_labels, best_distances, k)

    def _merge(
        self,
        queries: Vectors,
        chunk: list[tuple[int, bytes]],
        labels: np.ndarray,
        distances: np.ndarray,
        k: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        dim = queries.shape[1]
        usable = [(pk, blob) for pk, blob in chunk if len(blob) == dim * 4]
        if not usable:
            return labels, distances
        matrix = np.frombuffer(b"".join(blob for _, blob in usable), dtype=np.float32)
        chunk_labels = np.array([pk for pk, _ in usable], dtype=np.int64)
        chunk_distances = pairwise_distances(queries, matrix.reshape(-1, dim), self.metric)
        all_labels = np.concatenate(
            [labels, np.broadcast_to(chunk_labels, chunk_distances.shape)], axis=1
        )
        all_distances = np.concatenate([distances, chunk_distances], axis=1)
        order = np.argsort(all_distances, axis=1, kind="stable")[:, :k]
        return (
            np.take_along_axis(all_labels, order, axis=1),
            np.take_along_axis(all_distances, order, axis=1),
        )


class GalleryFaceSearch:
    """The process's loaded gallery (active index plus faces added since its build)."""

    def __init__(self, gallery: Gallery, *, refreshed: bool = False) -> None:
        self.gallery = gallery
        # Made right after a refresh, the first search need not check again; later ones do
        # (a search may be kept for many performers, and faces arrive meanwhile).
        self._refresh = not refreshed

    def nearest(self, queries: Vectors, *, k: int) -> list[Neighbour]:
        if len(queries) == 0:
            return []
        rows = self.gallery.search(queries, k, refresh=self._refresh)
        self._refresh = True
        to_key = Performer._meta.pk.to_python  # the gallery keeps performer ids as text
        return [
            Neighbour(found.face_id, found.distance, to_key(found.performer_id))
            for row in rows
            for found in row
        ]


def face_search_for(*, profile: str, metric: Metric) -> FaceSearch | None:
    """The best search available for the profile, or None when only a too-large scan is."""
    gallery = gallery_for(profile)
    try:
        gallery.refresh()
    except NoIndexYet:
        pass
    else:
        return GalleryFaceSearch(gallery, refreshed=True)
    faces = Face.objects.filter(profile=profile, status=FaceStatus.ACTIVE).count()
    if faces > DATABASE_SCAN_LIMIT:
        logger.warning("No index for %s and %s faces: face-only resolution skipped", profile, faces)
        return None
    return DatabaseFaceScan(profile=profile, metric=metric)
