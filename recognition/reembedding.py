"""Moving a gallery to another profile: every active face embedded again, beside the old ones.

Pixels come from what we keep: the photo itself when its `SourceImage.url` is a file on this
machine (enrolled folders), aligned again with the stored landmarks; otherwise the kept
aligned crop of the old face, in which the face is found again. The new faces are rows of
their own (`source_face` names the face each came from), so the old profile's index keeps
serving while this runs, a killed run resumes where it stopped, and the switch is the new
profile's index becoming active in one transaction (`index_build`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from django.db.models import QuerySet

from recognition.choices import FaceStatus
from recognition.configured_profile import profile_for
from recognition.engine.detector import primary_face_index
from recognition.engine.errors import ImageError
from recognition.engine.images import decode_image
from recognition.engine.profile import Profile, encode_jpeg
from recognition.engine.quality import assess_face
from recognition.engine.types import AnalyzedFace, Detection, ImageBGR
from recognition.models import Face
from recognition.services import face_create

logger = logging.getLogger(__name__)

_MAX_PIXELS = 50_000_000
# A kept crop is tight around the face; the detector needs context around it to find it.
_CROP_BORDER = 0.5


@dataclass
class ReembedCounts:
    from_photo: int = 0
    from_crop: int = 0
    skipped: int = 0

    @property
    def done(self) -> int:
        return self.from_photo + self.from_crop


def faces_to_reembed(*, from_profile: str, to_profile: str) -> QuerySet[Face]:
    """Active faces of `from_profile` that have no face of `to_profile` made from them yet."""
    done = Face.objects.filter(profile=to_profile, source_face__isnull=False).values("source_face")
    return (
        Face.objects.filter(profile=from_profile, status=FaceStatus.ACTIVE)
        .exclude(pk__in=done)
        .select_related("image", "performer")
        .order_by("pk")
    )


def faces_reembed(
    *,
    from_profile: str,
    to_profile: str,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReembedCounts:
    """Embed every face still missing in `to_profile` (at most `limit`); resumable."""
    if from_profile == to_profile:
        raise ValueError("the gallery is already of that profile")
    profile = profile_for(to_profile)
    counts = ReembedCounts()
    pending = faces_to_reembed(from_profile=from_profile, to_profile=to_profile)
    for face in pending[:limit] if limit is not None else pending.iterator(chunk_size=500):
        made = face_reembed(face=face, profile=profile)
        if made is None:
            counts.skipped += 1
        elif made[1]:
            counts.from_photo += 1
        else:
            counts.from_crop += 1
        if progress is not None:
            progress(1)
    return counts


def face_reembed(*, face: Face, profile: Profile) -> tuple[Face, bool] | None:
    """The face embedded by `profile` as a new row, and whether its photo was used (else its
    kept crop); None when neither holds a usable face any more."""
    analyzed = _from_photo(face, profile)
    from_photo = analyzed is not None
    if analyzed is None:
        analyzed = _from_crop(face, profile)
    if analyzed is None:
        logger.info("Face %s could not be embedded again: no face found", face.pk)
        return None
    made = face_create(
        performer=face.performer,
        analyzed=analyzed,
        profile=profile.name,
        origin=face.origin,
        image=face.image,
    )
    # The face's place in its photo stays the old face's: a crop's detection is in crop pixels.
    Face.objects.filter(pk=made.pk).update(
        source_face=face, box=face.box, landmarks=face.landmarks, det_score=face.det_score
    )
    made.refresh_from_db()
    return made, from_photo


def _from_photo(face: Face, profile: Profile) -> AnalyzedFace | None:
    if face.image is None or not face.image.url or len(face.landmarks) != 5:
        return None
    path = Path(face.image.url)
    if not path.is_file():
        return None
    try:
        image = decode_image(path.read_bytes(), max_pixels=_MAX_PIXELS)
    except (ImageError, OSError):
        return None
    box = face.box or {}
    detection = Detection(
        x1=float(box.get("x", 0)),
        y1=float(box.get("y", 0)),
        x2=float(box.get("x", 0)) + float(box.get("w", 0)),
        y2=float(box.get("y", 0)) + float(box.get("h", 0)),
        score=face.det_score,
        landmarks=tuple((float(x), float(y)) for x, y in face.landmarks),
    )
    return _analyzed(image, detection, profile)


def _from_crop(face: Face, profile: Profile) -> AnalyzedFace | None:
    if not face.crop:
        return None
    try:
        crop = decode_image(bytes(face.crop), max_pixels=_MAX_PIXELS)
    except ImageError:
        return None
    border = round(max(crop.shape[:2]) * _CROP_BORDER)
    framed = np.ascontiguousarray(
        cv2.copyMakeBorder(crop, border, border, border, border, cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )
    detections = profile.detect(framed, upscale_to=640)
    index = primary_face_index(detections, framed.shape[1], framed.shape[0])
    if index is None:
        return None
    return _analyzed(framed, detections[index], profile)


def _analyzed(image: ImageBGR, detection: Detection, profile: Profile) -> AnalyzedFace:
    [chip] = profile.align(image, [detection])
    embedding = profile.embed_chips([chip])[0]
    return AnalyzedFace(
        detection=detection,
        quality=assess_face(detection, chip),
        embedding=embedding,
        crop_jpeg=encode_jpeg(chip),
    )
