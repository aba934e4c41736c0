"""What users tell us about a scene's identification, from the plugin's buttons.

- A confirmation ("Add to scene") teaches the gallery: the person's face, found again in the
  scene's sprite (or taken from the thumbnail the plugin showed), is added to the performer
  as a FEEDBACK face when it is of gallery quality, so the next identification of that person
  scores higher. When the machine itself gave that performer little chance, the face is not
  added on one click's word: the case goes to the curation queue instead.
- A rejection ("Not this person") goes to the curation queue as a low-confidence item.

Settings: STASHSENSE_FEEDBACK_ADD_FACES (default True), STASHSENSE_FEEDBACK_MIN_CONFIDENCE
(default 0.5).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.db import transaction

from performers.models import Performer
from recognition.choices import FaceOrigin
from recognition.configured_profile import profile_for
from recognition.engine.profile import Profile
from recognition.engine.types import AnalyzedFace
from recognition.identification import (
    TILE_UPSCALE,
    decode_sent_image,
    gallery_context,
    match_faces,
)
from recognition.models import Face, SourceImage
from recognition.scenes import SceneFrame, SceneInputError, sprite_frames
from recognition.services import face_create
from stash.client import StashClient
from stash.library_scans import stash_client
from stash.selectors import scene_suggestion_person
from stash.signals import review_requested
from stashsense.errors import ApplicationError, Unprocessable

logger = logging.getLogger(__name__)

# Faces looked at again per confirmation: the largest boxes of the person are the best ones.
MAX_FRAMES_REDETECTED = 5
MIN_BOX_OVERLAP = 0.3
THUMBNAIL_PREFIX = "data:image/jpeg;base64,"


def feedback_adds_faces() -> bool:
    return bool(settings.STASHSENSE_FEEDBACK_ADD_FACES)


def feedback_min_confidence() -> float:
    return float(settings.STASHSENSE_FEEDBACK_MIN_CONFIDENCE)


@dataclass(frozen=True)
class FrameRef:
    """Where a person was seen: a sprite frame and, when known, the face's box in it."""

    index: int
    box: dict[str, int] | None = None


@dataclass(frozen=True)
class FeedbackOutcome:
    """What one piece of feedback did."""

    decision: str
    face: Face | None = None
    duplicate: bool = False
    review_item_id: int | None = None
    confidence: float | None = None
    reason: str = ""

    @property
    def face_added(self) -> bool:
        """A face joined the gallery now (not one added by the same feedback before)."""
        return self.face is not None and not self.duplicate

    @property
    def face_id(self) -> int | None:
        return self.face.pk if self.face is not None else None


# --- confirm -------------------------------------------------------------------------------


def feedback_confirm(
    *,
    stash_scene_id: str,
    person: int,
    performer: Performer,
    frames: Sequence[FrameRef] | None = None,
    thumbnail: bytes | None = None,
    client: StashClient | None = None,
    profile: str | None = None,
) -> FeedbackOutcome:
    """The user says `person` of the scene is `performer`: add their face to the gallery.

    The face comes from, in this order: `frames` (found again in the scene's sprite), the
    stored suggestion's frames of that person, or `thumbnail` (the face crop the plugin
    showed). Only a face that passes the quality gates is added, once (repeats are no-ops).
    """
    if not feedback_adds_faces():
        return FeedbackOutcome("confirm", reason="adding confirmed faces is turned off")
    engine = profile_for(profile)
    _, stored = scene_suggestion_person(stash_scene_id=stash_scene_id, person=person)
    refs = list(frames or []) or _stored_frames(stored)
    faces = _confirmed_faces(stash_scene_id, refs, thumbnail, client, engine)
    passing = [face for face in faces if face.quality.passed]
    if not passing:
        reasons = sorted({reason for face in faces for reason in face.quality.reasons})
        why = ", ".join(reasons) if reasons else "no face found where the person was seen"
        return FeedbackOutcome("confirm", reason=f"no face of gallery quality ({why})")
    best = max(passing, key=lambda face: face.quality.overall)
    confidence = max(
        _stored_confidence(stored, performer), _gallery_confidence(best, performer, engine)
    )
    if confidence < feedback_min_confidence():
        item = _queue_unsure_confirmation(
            stash_scene_id, person, performer, best, stored, confidence
        )
        return FeedbackOutcome(
            "confirm",
            review_item_id=item,
            confidence=confidence,
            reason="the gallery gave this performer little chance: queued for a curator",
        )
    face, duplicate = _feedback_face_add(stash_scene_id, person, performer, best, engine)
    return FeedbackOutcome("confirm", face=face, duplicate=duplicate, confidence=confidence)


def _confirmed_faces(
    stash_scene_id: str,
    refs: list[FrameRef],
    thumbnail: bytes | None,
    client: StashClient | None,
    engine: Profile,
) -> list[AnalyzedFace]:
    if refs:
        try:
            faces = _faces_in_sprite(stash_scene_id, refs, client, engine)
        except ApplicationError as error:
            if thumbnail is None:
                raise
            logger.info("Feedback for scene %s: %s; using the thumbnail", stash_scene_id, error)
            faces = []
        if faces or thumbnail is None:
            return faces
    if thumbnail is not None:
        return _faces_in_thumbnail(thumbnail, engine)
    raise Unprocessable(
        "Nothing to learn the face from: send `frames` or `thumbnail`, or identify the scene "
        "through /api/v1/scenes/<id>/suggestions first.",
        code="no_face_source",
    )


def _stored_frames(stored: dict[str, Any] | None) -> list[FrameRef]:
    refs = []
    for frame in (stored or {}).get("frames") or []:
        if isinstance(frame, dict) and isinstance(frame.get("index"), int):
            box = frame.get("box")
            refs.append(FrameRef(frame["index"], box if isinstance(box, dict) else None))
    return refs


def _box_area(ref: FrameRef) -> int:
    return int((ref.box or {}).get("w", 0)) * int((ref.box or {}).get("h", 0))


def _faces_in_sprite(
    stash_scene_id: str, refs: list[FrameRef], client: StashClient | None, engine: Profile
) -> list[AnalyzedFace]:
    """The person's face in each of their best frames, detected again in the sprite."""
    client = client or stash_client()
    sprite, vtt = client.scene_sprite(client.find_scene(stash_scene_id))
    try:
        frames = {f.index: f for f in sprite_frames(decode_sent_image(sprite, "sprite"), vtt)}
    except SceneInputError as error:
        raise Unprocessable(str(error), code="bad_scene") from error
    faces = []
    for ref in sorted(refs, key=_box_area, reverse=True)[:MAX_FRAMES_REDETECTED]:
        frame = frames.get(ref.index)
        face = _face_at(_analyze_small(frame, engine), ref.box) if frame else None
        if face is not None:
            faces.append(face)
    return faces


def _analyze_small(frame: SceneFrame, engine: Profile) -> list[AnalyzedFace]:
    upscale = TILE_UPSCALE if max(frame.image.shape[:2]) < TILE_UPSCALE else None
    return engine.analyze(frame.image, upscale_to=upscale, max_faces=settings.STASHSENSE_MAX_FACES)


def _face_at(faces: list[AnalyzedFace], box: dict[str, int] | None) -> AnalyzedFace | None:
    """The face at `box` (best overlap), or the largest face when no box was given."""
    if not faces:
        return None
    if box is None:
        return faces[0]
    overlaps = [(_overlap(face.detection.box_xywh(), box), face) for face in faces]
    score, face = max(overlaps, key=lambda pair: pair[0])
    return face if score >= MIN_BOX_OVERLAP else None


def _overlap(a: dict[str, int], b: dict[str, int]) -> float:
    """Intersection over union of two {x, y, w, h} boxes."""
    try:
        ax, ay, aw, ah = (float(a[k]) for k in "xywh")
        bx, by, bw, bh = (float(b[k]) for k in "xywh")
    except (KeyError, TypeError, ValueError):
        return 0.0
    width = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = width * height
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _faces_in_thumbnail(thumbnail: bytes, engine: Profile) -> list[AnalyzedFace]:
    """The face in a face crop (the aligned chip identification returns as `thumbnail`).

    A chip is all face, which the detector does not expect: it gets a margin of its own edge
    pixels first. The crop is already enlarged, so the size gate says little here; the blur
    gate still turns away faces that were too small to begin with.
    """
    chip = decode_sent_image(thumbnail, "thumbnail")
    margin = max(chip.shape[:2]) // 2
    image = np.asarray(
        cv2.copyMakeBorder(chip, margin, margin, margin, margin, cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )
    upscale = TILE_UPSCALE if max(image.shape[:2]) < TILE_UPSCALE else None
    return engine.analyze(image, upscale_to=upscale, max_faces=1)


def _stored_confidence(stored: dict[str, Any] | None, performer: Performer) -> float:
    for match in (stored or {}).get("matches") or []:
        if str((match.get("performer") or {}).get("id")) == str(performer.pk):
            return float(match.get("confidence") or 0.0)
    return 0.0


def _gallery_confidence(face: AnalyzedFace, performer: Performer, engine: Profile) -> float:
    """How sure the gallery is, from this one face, that it is `performer`."""
    [matches] = match_faces(gallery_context(engine.name), [face], top_k=10, threshold=0.0)
    return max(
        (float(m.confidence) for m in matches if str(m.performer_key) == str(performer.pk)),
        default=0.0,
    )


def _feedback_face_add(
    stash_scene_id: str, person: int, performer: Performer, face: AnalyzedFace, engine: Profile
) -> tuple[Face, bool]:
    """Store the confirmed face once: the crop's digest keys it like a gallery photo."""
    digest = hashlib.sha256(face.crop_jpeg).hexdigest()
    with transaction.atomic():
        image, created = SourceImage.objects.get_or_create(
            performer=performer,
            sha256=digest,
            defaults={
                "url": f"stash:scene/{stash_scene_id}#person={person}",
                "width": face.detection.box_xywh()["w"],
                "height": face.detection.box_xywh()["h"],
                "face_count": 1,
            },
        )
        if not created:
            existing = image.faces.order_by("pk").first()
            if existing is not None:
                return existing, True
        added = face_create(
            performer=performer,
            analyzed=face,
            profile=engine.name,
            origin=FaceOrigin.FEEDBACK,
            image=image,
        )
    logger.info(
        "Feedback: face %s added to %s from scene %s", added.pk, performer.pk, stash_scene_id
    )
    return added, False


# --- reject and the curation queue ---------------------------------------------------------


def feedback_reject(
    *, stash_scene_id: str, person: int, performer: Performer, thumbnail: bytes | None = None
) -> FeedbackOutcome:
    """The user says `person` of the scene is not `performer`: a curator takes a look."""
    _, stored = scene_suggestion_person(stash_scene_id=stash_scene_id, person=person)
    confidence = _stored_confidence(stored, performer)
    crop = _as_jpeg(thumbnail) if thumbnail is not None else None
    payload = {
        **_review_payload(stash_scene_id, person, performer, stored, crop),
        "decision": "reject",
        "rejected_performer_id": str(performer.pk),
        "rejected_name": performer.name,
    }
    # A confident match the user turned down is the most telling: it sorts first.
    item = _review_item_create(payload=payload, score=confidence if stored else 0.5)
    return FeedbackOutcome("reject", review_item_id=item, confidence=confidence if stored else None)


def _as_jpeg(image: bytes) -> bytes:
    """An uploaded face crop as a JPEG we decoded ourselves (curators' pages show it inline)."""
    ok, encoded = cv2.imencode(".jpg", decode_sent_image(image, "thumbnail"))
    if not ok:
        raise ApplicationError("`thumbnail` could not be re-encoded.", code="bad_image")
    return bytes(encoded.tobytes())


def _queue_unsure_confirmation(
    stash_scene_id: str,
    person: int,
    performer: Performer,
    face: AnalyzedFace,
    stored: dict[str, Any] | None,
    confidence: float,
) -> int | None:
    payload = {
        **_review_payload(stash_scene_id, person, performer, stored, face.crop_jpeg),
        "decision": "confirm",
        "confirmed_performer_id": str(performer.pk),
        "confirmed_name": performer.name,
    }
    return _review_item_create(payload=payload, score=confidence)


def _review_payload(
    stash_scene_id: str,
    person: int,
    performer: Performer,
    stored: dict[str, Any] | None,
    thumbnail: bytes | None,
) -> dict[str, Any]:
    candidates = [
        {
            "performer_id": str(match["performer"]["id"]),
            "name": match["performer"].get("name", ""),
            "score": match.get("score"),
            "confidence": match.get("confidence"),
            "distance": match.get("distance"),
        }
        for match in (stored or {}).get("matches") or []
        if isinstance(match, dict) and isinstance(match.get("performer"), dict)
    ]
    if not any(c["performer_id"] == str(performer.pk) for c in candidates):
        candidates.append({"performer_id": str(performer.pk), "name": performer.name})
    image = (
        THUMBNAIL_PREFIX + base64.b64encode(thumbnail).decode()
        if thumbnail
        else (stored or {}).get("thumbnail") or ""
    )
    return {
        "scene_id": str(stash_scene_id),
        "person": person,
        "thumbnail": image,
        "candidates": candidates,
        "source": "plugin",
    }


def _review_item_create(*, payload: dict[str, Any], score: float) -> int | None:
    """Hand the case to the review domain, which sits above us and listens for it."""
    answers = review_requested.send(
        sender=FeedbackOutcome, payload=payload, score=min(1.0, max(0.0, score))
    )
    opened = [int(item_id) for _, item_id in answers if item_id is not None]
    return opened[0] if opened else None
