"""Identify performers in one image or a whole scene: the service behind /api/v1/identify*.

Both paths share one decision: the k nearest gallery faces are grouped per performer,
scored per identity and calibrated (recognition.scoring); a scene first clusters the faces
of all its frames into persons and lets each person's faces vote (recognition.clustering).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Q

from performers.models import Performer
from recognition.clustering import FaceMatch, VotingParams, scene_persons
from recognition.configured_profile import profile_for
from recognition.engine.errors import ImageError
from recognition.engine.images import decode_image
from recognition.engine.tiles import analyze_tiles
from recognition.engine.types import AnalyzedFace, ImageBGR
from recognition.models import IndexBuild
from recognition.scenes import SceneFrame, SceneInputError, frames_from_images, sprite_frames
from recognition.scoring import Calibrator, IdentityMatch, default_calibrator, rank_identities
from recognition.searchable_gallery import Gallery, gallery_for
from stashsense.errors import ApplicationError

NEIGHBOURS = 20
# A single small frame is enlarged to the detector canvas before detection.
TILE_UPSCALE = 640
# Faces in sprite tiles are all small and soft by the gallery's standards, so in a scene the
# quality gates only rank faces against each other; a face under MIN_SCENE_FACE pixels carries
# no vote at all (too few pixels to tell people apart).
MIN_SCENE_FACE = 14.0
SCENE_VOTING = VotingParams(unseen_weight=0.1)


def _vote_weight(face: AnalyzedFace) -> float:
    if face.detection.size < MIN_SCENE_FACE or face.detection.score < 0.5:
        return 0.0
    return 0.5 + face.quality.overall


class Timer:
    """Wall-clock milliseconds per step, for `timings_ms`."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._started = time.perf_counter()
        self._last = self._started

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + (now - self._last) * 1000, 1)
        self._last = now

    def done(self) -> dict[str, float]:
        self.timings["total"] = round((time.perf_counter() - self._started) * 1000, 1)
        return self.timings


@dataclass
class Context:
    """What one identification needs from the gallery: index, calibration, performer rows."""

    gallery: Gallery
    calibrator: Calibrator
    build: IndexBuild
    performers: dict[str, dict[str, Any]] = field(default_factory=dict)


def gallery_context(profile: str) -> Context:
    metric = profile_for(profile).metric
    gallery = gallery_for(profile)
    gallery.refresh()
    assert gallery.build_id is not None
    build = IndexBuild.objects.get(pk=gallery.build_id)
    calibrator = (
        Calibrator.from_dict(build.calibration)
        if build.calibration
        else default_calibrator(profile, metric)
    )
    return Context(gallery=gallery, calibrator=calibrator, build=build)


def decode_or_400(data: bytes, what: str = "image") -> ImageBGR:
    try:
        return decode_image(data, max_pixels=settings.STASHSENSE_MAX_IMAGE_PIXELS)
    except ImageError as error:
        raise ApplicationError(
            f"{what}: {error}", code=getattr(error, "code", "bad_image")
        ) from error


def match_faces(
    context: Context, faces: Sequence[AnalyzedFace], *, top_k: int, threshold: float | None
) -> list[list[IdentityMatch]]:
    if not faces:
        return []
    vectors = np.stack([face.embedding for face in faces]).astype(np.float32)
    # gallery_context refreshed the gallery for this request already
    neighbours = context.gallery.search(vectors, NEIGHBOURS, refresh=False)
    return [
        rank_identities(
            [n.performer_id for n in row],
            [n.distance for n in row],
            calibrator=context.calibrator,
            top_k=top_k,
            threshold=threshold,
        )
        for row in neighbours
    ]


def _performer_rows(keys: Collection[str]) -> dict[str, dict[str, Any]]:
    rows = Performer.objects.filter(pk__in=list(keys)).prefetch_related("stash_ids")
    return {
        str(p.pk): {
            "id": str(p.pk),
            "name": p.name,
            "disambiguation": p.disambiguation,
            "stash_ids": [
                {"endpoint": s.endpoint, "stash_id": s.stash_id} for s in p.stash_ids.all()
            ],
        }
        for p in rows
    }


def _match_body(
    match: IdentityMatch | Any, performers: dict[str, dict[str, Any]], **extra: Any
) -> dict[str, Any] | None:
    performer = performers.get(str(match.performer_key))
    if performer is None:  # merged away or deleted between search and answer
        return None
    body = {
        "performer": performer,
        "score": round(float(match.score), 4),
        "confidence": round(float(match.confidence), 4),
    }
    if hasattr(match, "distance"):
        body["distance"] = round(float(match.distance), 4)
    return {**body, **extra}


def _index_version(build: IndexBuild) -> str:
    return f"{build.profile}:{build.pk}:{build.max_face_id}"


def identify_image(
    *, data: bytes, top_k: int = 3, threshold: float | None = None, profile: str | None = None
) -> dict[str, Any]:
    """Every face in an image with its ranked, calibrated candidates."""
    timer = Timer()
    engine = profile_for(profile)
    context = gallery_context(engine.name)
    image = decode_or_400(data)
    timer.lap("decode")
    faces = engine.analyze(image, max_faces=settings.STASHSENSE_MAX_FACES)
    timer.lap("detect_embed")
    usable = [face for face in faces if face.quality.passed]
    ranked = dict(
        zip(
            (id(f) for f in usable),
            match_faces(context, usable, top_k=top_k, threshold=threshold),
            strict=True,
        )
    )
    timer.lap("search")
    performers = _performer_rows(
        {str(m.performer_key) for matches in ranked.values() for m in matches}
    )
    body_faces = []
    for face in faces:
        matches = [_match_body(m, performers) for m in ranked.get(id(face), [])]
        body_faces.append(
            {
                "box": face.detection.box_xywh(),
                "det_score": round(face.detection.score, 4),
                "quality": round(face.quality.overall, 4),
                "quality_passed": face.quality.passed,
                "quality_reasons": list(face.quality.reasons),
                "matches": [m for m in matches if m is not None],
            }
        )
    return {
        "faces": body_faces,
        "profile": engine.name,
        "index_version": _index_version(context.build),
        "timings_ms": timer.done(),
    }


def _thumbnail(face: AnalyzedFace) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(face.crop_jpeg).decode()


def identify_frames(
    *,
    frames: Sequence[SceneFrame],
    known_performer_ids: Collection[str] = (),
    top_k: int = 3,
    threshold: float | None = None,
    profile: str | None = None,
    timer: Timer | None = None,
) -> dict[str, Any]:
    """Faces of all frames → persons (clustered) → ranked performers per person."""
    timer = timer or Timer()
    engine = profile_for(profile)
    context = gallery_context(engine.name)
    faces: list[AnalyzedFace] = []
    frame_of: list[SceneFrame] = []
    per_tile = analyze_tiles(engine, [frame.image for frame in frames], min_size=MIN_SCENE_FACE)
    for frame, found in zip(frames, per_tile, strict=True):
        for face in found[: settings.STASHSENSE_MAX_FACES]:
            faces.append(face)
            frame_of.append(frame)
    timer.lap("detect_embed")
    per_face = match_faces(context, faces, top_k=10, threshold=0.0)
    timer.lap("search")
    known = _known_keys(known_performer_ids)
    persons = scene_persons(
        np.stack([f.embedding for f in faces]) if faces else np.zeros((0, engine.dim), np.float32),
        [frame.index for frame in frame_of],
        [_vote_weight(f) for f in faces],
        [
            [FaceMatch(m.performer_key, m.score, m.confidence) for m in matches]
            for matches in per_face
        ],
        metric=engine.metric,
        known_performers=known,
        params=SCENE_VOTING,
    )
    minimum = context.calibrator.threshold if threshold is None else threshold
    named = [[m for m in person.matches if m.confidence >= minimum][:top_k] for person in persons]
    performers = _performer_rows({str(m.performer_key) for matches in named for m in matches})
    body_persons = []
    for number, (person, matches) in enumerate(zip(persons, named, strict=True)):
        best = faces[person.best_face_index]
        appearances = sorted({frame_of[i].index for i in person.face_indices})
        bodies = [_match_body(m, performers, votes=m.votes) for m in matches]
        body_persons.append(
            {
                "person": number,
                "appearances": len(appearances),
                "frames": [
                    {
                        "index": frame_of[i].index,
                        "start": frame_of[i].start,
                        "box": faces[i].detection.box_xywh(),
                    }
                    for i in person.face_indices
                ],
                "thumbnail": _thumbnail(best),
                "matches": [b for b in bodies if b is not None],
            }
        )
    timer.lap("cluster_vote")
    return {
        "frames": len(frames),
        "faces": len(faces),
        "persons": body_persons,
        "profile": engine.name,
        "index_version": _index_version(context.build),
        "timings_ms": timer.done(),
    }


def _known_keys(known_performer_ids: Collection[Any]) -> set[str]:
    """Local performer ids from our ids or (endpoint, stash_id) pairs of the scene's cast."""
    condition = Q(pk__in=[])
    for item in known_performer_ids:
        if isinstance(item, dict) and item.get("endpoint") and item.get("stash_id"):
            condition |= Q(
                stash_ids__endpoint=str(item["endpoint"]), stash_ids__stash_id=str(item["stash_id"])
            )
        elif isinstance(item, str):
            try:
                condition |= Q(pk=uuid.UUID(item))
            except ValueError:
                condition |= Q(stash_ids__stash_id=item)
    if not known_performer_ids:
        return set()
    return {str(pk) for pk in Performer.objects.filter(condition).values_list("pk", flat=True)}


def identify_scene(
    *,
    sprite: bytes | None = None,
    vtt: str | None = None,
    frames: Sequence[bytes] | None = None,
    known_performer_ids: Collection[Any] = (),
    top_k: int = 3,
    threshold: float | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """A scene from a sprite sheet + VTT, or from a list of frames."""
    timer = Timer()
    try:
        if sprite is not None:
            if vtt is None:
                raise ApplicationError("A sprite needs its `vtt`.", code="invalid")
            scene_frames = sprite_frames(decode_or_400(sprite, "sprite"), vtt)
        elif frames:
            if len(frames) > settings.STASHSENSE_MAX_FRAMES:
                raise ApplicationError(
                    f"At most {settings.STASHSENSE_MAX_FRAMES} frames per request.",
                    code="too_many_frames",
                )
            scene_frames = frames_from_images(
                [decode_or_400(f, f"frame {i}") for i, f in enumerate(frames)]
            )
        else:
            raise ApplicationError(
                "Send `sprite` + `vtt`, `frames` or `stash_scene_id`.", code="no_scene"
            )
    except SceneInputError as error:
        raise ApplicationError(str(error), code="bad_scene") from error
    timer.lap("decode")
    return identify_frames(
        frames=scene_frames,
        known_performer_ids=known_performer_ids,
        top_k=top_k,
        threshold=threshold,
        profile=profile,
        timer=timer,
    )
