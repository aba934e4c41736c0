"""The face each labelled photo is of, embedded once per run and shared by every protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from recognition.engine.detector import primary_face_index
from recognition.engine.errors import ImageError
from recognition.engine.images import decode_image
from recognition.engine.profile import Profile
from recognition.engine.types import FaceQuality

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
DEFAULT_NEIGHBOURS = 50
MAX_IMAGE_PIXELS = 40_000_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FaceRecord:
    """The face a labelled photo is of (its largest central face), or none found."""

    path: Path
    embedding: npt.NDArray[np.float32] | None
    quality: FaceQuality | None
    crop_jpeg: bytes | None
    faces_found: int


@dataclass
class EmbeddingCache:
    """Embeddings computed during one run, so calibration and evaluation embed once."""

    profile: Profile
    records: dict[Path, FaceRecord] = field(default_factory=dict)

    def record(self, path: Path) -> FaceRecord:
        cached = self.records.get(path)
        if cached is None:
            cached = embed_primary_face(self.profile, path)
            self.records[path] = cached
        return cached

    def records_for(self, paths: list[Path], progress: Progress | None = None) -> list[FaceRecord]:
        records = []
        for done, path in enumerate(paths, start=1):
            records.append(self.record(path))
            if progress is not None:
                progress(done, len(paths))
        return records


def embed_primary_face(profile: Profile, path: Path) -> FaceRecord:
    try:
        image = decode_image(path.read_bytes(), max_pixels=MAX_IMAGE_PIXELS)
    except (ImageError, OSError):
        return FaceRecord(path, None, None, None, 0)
    faces = profile.analyze(image)
    height, width = image.shape[:2]
    index = primary_face_index([face.detection for face in faces], width, height)
    if index is None:
        return FaceRecord(path, None, None, None, 0)
    face = faces[index]
    return FaceRecord(path, face.embedding, face.quality, face.crop_jpeg, len(faces))
