"""The searchable gallery of one profile inside this process.

The active index file is loaded once (at start-up or first use) and swapped atomically when a
newer build becomes active; faces added since the build are appended from the database on the
next search, and removed faces are filtered out when neighbours are mapped to performers, so
every curation decision shows in results at once without re-indexing.

Loading and catching up run on a background thread, never inside a request: a request waits
for a first load at most `FIRST_LOAD_WAIT_SECONDS` (then 503 `index_loading`), appends at most
one batch of new faces itself and leaves a longer backlog (an import of 300k faces) to the
background, answering from what is loaded meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from django.db import DatabaseError, connections

from recognition.choices import FaceStatus
from recognition.configured_profile import serving_profile
from recognition.index import ExactIndex, FaceIndex, IndexFileError, load_index
from recognition.models import Face, IndexBuild
from stashsense.errors import Unavailable

logger = logging.getLogger(__name__)
DELTA_BATCH = 2000


# An index appears when someone builds one: minutes at best, so clients need not hurry.
NO_INDEX_RETRY_SECONDS = 60
# A small gallery loads within this; a large one answers 503 `index_loading` meanwhile.
FIRST_LOAD_WAIT_SECONDS = 2.0
INDEX_LOADING_RETRY_SECONDS = 10


class NoIndexYet(Unavailable):
    """The profile has no active index (or it is not loaded yet): nothing to search."""

    def __init__(self, profile: str) -> None:
        super().__init__(
            f"No face index for profile {profile!r} yet: enroll photos, sync a source or run "
            "`manage.py build_index`.",
            code="no_index",
            retry_after=NO_INDEX_RETRY_SECONDS,
        )


class IndexLoading(Unavailable):
    """The profile's index is being loaded in the background; ask again shortly."""

    def __init__(self, profile: str) -> None:
        super().__init__(
            f"The face index for profile {profile!r} is loading; try again in a few seconds.",
            code="index_loading",
            retry_after=INDEX_LOADING_RETRY_SECONDS,
        )


@dataclass(frozen=True)
class Neighbour:
    """A gallery face near a probe, already mapped to its performer."""

    face_id: int
    performer_id: str
    distance: float
    quality: float


def iter_face_vectors(
    *, profile: str, after_id: int = 0, batch_size: int = DELTA_BATCH
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]:
    """Active faces of a profile as (labels, vectors) batches, in id order, streaming."""
    last = after_id
    while True:
        rows = list(
            Face.objects.filter(profile=profile, status=FaceStatus.ACTIVE, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "embedding")[:batch_size]
        )
        if not rows:
            return
        labels = np.fromiter((pk for pk, _ in rows), dtype=np.int64, count=len(rows))
        vectors = np.stack([np.frombuffer(bytes(blob), dtype=np.float32) for _, blob in rows])
        yield labels, vectors
        last = int(labels[-1])


class Gallery:
    """One profile's index plus the faces added since it was built."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self._lock = threading.Lock()
        self._index: FaceIndex | ExactIndex | None = None
        self._build_id: int | None = None
        self._build_version: tuple[int, str] | None = None
        self._max_face_id = 0
        self._background: threading.Thread | None = None

    @property
    def build_id(self) -> int | None:
        return self._build_id

    def _load(self, build: IndexBuild) -> None:
        """Load the build's file and the faces added since, then swap it in (background)."""
        try:
            index = load_index(Path(build.path))
        except IndexFileError as error:
            logger.error("Cannot load index build %s: %s", build.pk, error)
            return
        max_face_id = build.max_face_id
        try:
            for labels, vectors in iter_face_vectors(profile=self.profile, after_id=max_face_id):
                index.add(labels, vectors)
                max_face_id = int(labels[-1])
        except DatabaseError as error:
            # Swap in what is loaded; searches catch up from `max_face_id` (e.g. SQLite locked
            # by a writer: another thread may not read meanwhile).
            logger.warning("Index build %s loaded without catching up yet: %s", build.pk, error)
        with self._lock:
            self._index, self._build_id, self._max_face_id = index, build.pk, max_face_id
            self._build_version = _version(build)
        logger.info("Loaded index build %s (%d faces)", build.pk, len(index))

    def _in_background(self, name: str, work: Callable[[], None]) -> threading.Thread:
        """Run `work` on a thread of its own, one at a time; its database connection closes."""
        with self._lock:
            if self._background is not None and self._background.is_alive():
                return self._background

            def run() -> None:
                try:
                    work()
                except Exception:
                    logger.exception("Background %s of the %s gallery failed", name, self.profile)
                finally:
                    connections.close_all()  # this thread's connections only

            self._background = threading.Thread(target=run, daemon=True, name=f"index-{name}")
            self._background.start()
            return self._background

    def refresh(self) -> None:
        """Follow the active build and append faces added since; cheap when nothing changed.

        Never loads inside the caller beyond a short wait for a first load (see module doc).
        """
        build = IndexBuild.objects.filter(profile=self.profile, active=True).first()
        if build is None:
            raise NoIndexYet(self.profile)
        if _version(build) != self._build_version:
            loader = self._in_background("load", lambda: self._load(build))
            if self._index is None:
                loader.join(timeout=FIRST_LOAD_WAIT_SECONDS)
        if self._index is None:
            raise IndexLoading(self.profile)
        self._catch_up()

    def _catch_up(self) -> None:
        """Append one batch of faces added since (a curator's change shows at once); when more
        are waiting, the rest is appended in the background while searches go on."""
        if self._background is not None and self._background.is_alive():
            return  # a load or catch-up under way will include them
        if self._append_batch() == DELTA_BATCH:
            self._in_background("catch-up", self._append_all)

    def _append_all(self) -> None:
        while self._append_batch() == DELTA_BATCH:
            pass

    def _append_batch(self) -> int:
        """Append the next batch of active faces after the last one seen; how many were read."""
        batch = next(iter_face_vectors(profile=self.profile, after_id=self._max_face_id), None)
        if batch is None:
            return 0
        labels, vectors = batch
        with self._lock:
            assert self._index is not None
            fresh = np.array([label not in self._index for label in labels.tolist()], dtype=bool)
            if fresh.any():
                self._index.add(labels[fresh], vectors[fresh])
            self._max_face_id = max(self._max_face_id, int(labels[-1]))
        return len(labels)

    def search(
        self, vectors: npt.NDArray[np.float32], k: int, *, refresh: bool = True
    ) -> list[list[Neighbour]]:
        """The k nearest active gallery faces of each probe, mapped to performers.

        `refresh=False` is for a caller that has just refreshed (one request, one check).
        """
        if refresh or self._index is None:
            self.refresh()
        assert self._index is not None
        if len(vectors) == 0:
            return []
        with self._lock:
            # Ask for more than k: removed faces are dropped below, and they stay in the file
            # until the next build.
            labels, distances = self._index.query(vectors, min(len(self._index), k * 2 + 4))
        wanted = {int(label) for label in labels.ravel() if label >= 0}
        faces = {
            pk: (str(performer_id), quality)
            for pk, performer_id, quality in Face.objects.filter(
                pk__in=wanted, status=FaceStatus.ACTIVE
            ).values_list("pk", "performer_id", "quality")
        }
        results = []
        for row_labels, row_distances in zip(labels, distances, strict=True):
            row = [
                Neighbour(
                    int(label), faces[int(label)][0], float(distance), float(faces[int(label)][1])
                )
                for label, distance in zip(row_labels, row_distances, strict=True)
                if int(label) in faces
            ]
            results.append(row[:k])
        return results

    def size(self) -> int:
        return len(self._index) if self._index is not None else 0


def _version(build: IndexBuild) -> tuple[int, str]:
    return build.pk, build.built_at.isoformat() if build.built_at else ""


_galleries: dict[str, Gallery] = {}
_galleries_lock = threading.Lock()


def gallery_for(profile: str | None = None) -> Gallery:
    name = profile or serving_profile()
    with _galleries_lock:
        if name not in _galleries:
            _galleries[name] = Gallery(name)
        return _galleries[name]


def galleries_warm_up() -> None:
    """Start loading the serving profile's index in the background (a web process' start-up),
    so the first request finds it loaded; any failure is logged, and requests try again."""
    try:
        gallery_for().refresh()
    except Exception as error:  # no index yet, the database down, still loading
        logger.info("Index not loaded at start-up: %s", error)
    finally:
        connections.close_all()


def galleries_reset() -> None:
    """Forget every loaded gallery (tests; after an import replaced the database)."""
    with _galleries_lock:
        _galleries.clear()
