"""Identify performers in one image or a whole scene: the service behind /api/v1/identify*.

Both paths share one decision: the k nearest gallery faces are grouped per performer,
scored per identity and calibrated (recognition.scoring); a scene first clusters the faces
of all its frames into persons and lets each person's faces vote (recognition.clustering).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Q

from performers.models import Performer
from recognition.clustering import FaceMatch, PersonMatch, ScenePerson, VotingParams, scene_persons
from recognition.configured_profile import profile_for
from recognition.engine.errors import ImageError
from recognition.engine.images import decode_image
from recognition.engine.profile import Profile
from recognition.engine.tiles import TILE_SCALE, analyze_tiles
from recognition.engine.types import AnalyzedFace, ImageBGR
from recognition.models import IndexBuild
from recognition.scenes import SceneFrame, SceneInputError, frames_from_images, sprite_frames
from recognition.scoring import Calibrator, IdentityMatch, default_calibrator, rank_identities
from recognition.searchable_gallery import Gallery, gallery_for
from recognition.video import (
    DEFAULT_FRAMES,
    MAX_FRAMES,
    MIN_FRAMES,
    VideoInputError,
    VideoLimits,
    VideoReader,
    VideoSource,
    VideoTimeout,
    sample_times,
)
from stashsense.errors import InvalidInput, TimedOut, Unprocessable

NEIGHBOURS = 20
# A single small frame is enlarged to the detector canvas before detection.
TILE_UPSCALE = 640
# Faces in sprite tiles are all small and soft by the gallery's standards, so in a scene the
# quality gates only rank faces against each other; a face under MIN_SCENE_FACE pixels carries
# no vote at all (too few pixels to tell people apart).
MIN_SCENE_FACE = 14.0
SCENE_VOTING = VotingParams(unseen_weight=0.1)
# `auto` reads the video in this many passes, each spread over the whole scene, and stops
# after a pass once every person is settled: named and seen in SETTLED_APPEARANCES frames, or
# unnamed after UNKNOWN_APPEARANCES (enough good looks to say the gallery does not have them).
AUTO_PASSES = 3
SETTLED_APPEARANCES = 3
UNKNOWN_APPEARANCES = 6
SCENE_MODES = ("sprite", "video", "auto")


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
    """What one identification needs from the gallery: the index and its calibration."""

    gallery: Gallery
    calibrator: Calibrator
    build: IndexBuild


# --- what identification answers -------------------------------------------------------------
# The API's output serializers (recognition/api/serializers.py) turn these into its bodies.


@dataclass(frozen=True)
class FaceCandidate:
    """A performer a face may be: `score` a similarity, `confidence` a calibrated probability."""

    performer: Performer
    score: float
    confidence: float
    distance: float


@dataclass(frozen=True)
class IdentifiedFace:
    """One face found in an image; `matches` is empty when no one is likely enough."""

    box: dict[str, int]
    det_score: float
    quality: float
    quality_passed: bool
    quality_reasons: list[str]
    matches: list[FaceCandidate]


@dataclass(frozen=True)
class ImageIdentification:
    """Every face of an image, the index that named them, and where the time went."""

    faces: list[IdentifiedFace]
    profile: str
    index_version: str
    timings_ms: dict[str, float]


@dataclass(frozen=True)
class PersonCandidate:
    """A performer a person of a scene may be; `votes` = their faces that ranked it first."""

    performer: Performer
    score: float
    confidence: float
    votes: int


@dataclass(frozen=True)
class PersonFrame:
    """Where a person was seen: the frame, its time in the scene (when known), the face's box."""

    index: int
    start: float | None
    box: dict[str, int]


@dataclass(frozen=True)
class IdentifiedPerson:
    """One person of a scene (faces grouped across frames) with their ranked candidates."""

    person: int
    appearances: int
    frames: list[PersonFrame]
    thumbnail_jpeg: bytes
    matches: list[PersonCandidate]
    time_ranges: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class SceneIdentification:
    """The persons of a scene, from `frames` frames holding `faces` faces in all."""

    frames: int
    faces: int
    persons: list[IdentifiedPerson]
    profile: str
    index_version: str
    timings_ms: dict[str, float]
    mode: str = "frames"  # what ran: sprite, video, auto (sprite + video) or frames (images)
    video_frames: int = 0
    duration: float | None = None


# --- identifying -------------------------------------------------------------------------------


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


def decode_sent_image(data: bytes, what: str = "image") -> ImageBGR:
    """An image someone sent, decoded; InvalidInput (with the reason's code) when it is not one."""
    try:
        return decode_image(data, max_pixels=settings.STASHSENSE_MAX_IMAGE_PIXELS)
    except ImageError as error:
        raise InvalidInput(f"{what}: {error}", code=getattr(error, "code", "bad_image")) from error


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


def _performers_by_key(keys: Collection[str]) -> dict[str, Performer]:
    rows = Performer.objects.filter(pk__in=list(keys)).prefetch_related("stash_ids")
    return {str(p.pk): p for p in rows}


def _index_version(build: IndexBuild) -> str:
    return f"{build.profile}:{build.pk}:{build.max_face_id}"


def identify_image(
    *, data: bytes, top_k: int = 3, threshold: float | None = None, profile: str | None = None
) -> ImageIdentification:
    """Every face in an image with its ranked, calibrated candidates."""
    timer = Timer()
    engine = profile_for(profile)
    context = gallery_context(engine.name)
    image = decode_sent_image(data)
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
    performers = _performers_by_key(
        {str(m.performer_key) for matches in ranked.values() for m in matches}
    )
    return ImageIdentification(
        faces=[_identified_face(face, ranked.get(id(face), []), performers) for face in faces],
        profile=engine.name,
        index_version=_index_version(context.build),
        timings_ms=timer.done(),
    )


def _identified_face(
    face: AnalyzedFace, matches: Sequence[IdentityMatch], performers: Mapping[str, Performer]
) -> IdentifiedFace:
    return IdentifiedFace(
        box=face.detection.box_xywh(),
        det_score=face.detection.score,
        quality=face.quality.overall,
        quality_passed=face.quality.passed,
        quality_reasons=list(face.quality.reasons),
        matches=[
            FaceCandidate(performers[key], m.score, m.confidence, m.distance)
            for m in matches
            # a performer merged away or deleted between search and answer drops out
            if (key := str(m.performer_key)) in performers
        ],
    )


@dataclass
class SceneFaces:
    """The faces found so far in a scene's frames (sprite tiles, video frames, images)."""

    faces: list[AnalyzedFace] = field(default_factory=list)
    frame_of: list[SceneFrame] = field(default_factory=list)
    frames: int = 0

    def add(self, engine: Profile, frames: Sequence[SceneFrame], *, scale: float) -> None:
        """Detect and embed the faces of `frames` (tiles enlarged by `scale`)."""
        images = [frame.image for frame in frames]
        per_frame = analyze_tiles(engine, images, scale=scale, min_size=MIN_SCENE_FACE)
        for frame, found in zip(frames, per_frame, strict=True):
            for face in found[: settings.STASHSENSE_MAX_FACES]:
                self.faces.append(face)
                self.frame_of.append(frame)
        self.frames += len(frames)


@dataclass(frozen=True)
class SceneRequest:
    """How a scene's faces become names: the known cast and the ranking parameters."""

    known_performer_ids: Collection[Any] = ()
    top_k: int = 3
    threshold: float | None = None


def identify_frames(
    *,
    frames: Sequence[SceneFrame],
    known_performer_ids: Collection[Any] = (),
    top_k: int = 3,
    threshold: float | None = None,
    profile: str | None = None,
    timer: Timer | None = None,
) -> SceneIdentification:
    """Faces of all frames → persons (clustered) → ranked performers per person."""
    timer = timer or Timer()
    engine = profile_for(profile)
    context = gallery_context(engine.name)
    found = SceneFaces()
    found.add(engine, frames, scale=TILE_SCALE)
    timer.lap("detect_embed")
    request = SceneRequest(known_performer_ids, top_k, threshold)
    persons = _scene_decision(engine, context, found, request, timer)
    return _scene_answer(engine, context, found, persons, timer)


def _scene_decision(
    engine: Profile, context: Context, found: SceneFaces, request: SceneRequest, timer: Timer
) -> list[IdentifiedPerson]:
    """Search, cluster and vote over every face found so far (cheap next to detection)."""
    faces, frame_of = found.faces, found.frame_of
    per_face = match_faces(context, faces, top_k=10, threshold=0.0)
    timer.lap("search")
    persons = scene_persons(
        np.stack([f.embedding for f in faces]) if faces else np.zeros((0, engine.dim), np.float32),
        [frame.index for frame in frame_of],
        [_vote_weight(f) for f in faces],
        [
            [FaceMatch(m.performer_key, m.score, m.confidence) for m in matches]
            for matches in per_face
        ],
        metric=engine.metric,
        known_performers=_known_keys(request.known_performer_ids),
        params=SCENE_VOTING,
    )
    threshold = request.threshold
    minimum = context.calibrator.threshold if threshold is None else threshold
    named = [
        [m for m in person.matches if m.confidence >= minimum][: request.top_k]
        for person in persons
    ]
    performers = _performers_by_key({str(m.performer_key) for matches in named for m in matches})
    gap = _range_gap(found.frame_of)
    identified = [
        _identified_person(number, person, matches, faces, frame_of, performers, gap)
        for number, (person, matches) in enumerate(zip(persons, named, strict=True))
    ]
    timer.lap("cluster_vote")
    return identified


def _scene_answer(
    engine: Profile,
    context: Context,
    found: SceneFaces,
    persons: list[IdentifiedPerson],
    timer: Timer,
    **extra: Any,
) -> SceneIdentification:
    return SceneIdentification(
        frames=found.frames,
        faces=len(found.faces),
        persons=persons,
        profile=engine.name,
        index_version=_index_version(context.build),
        timings_ms=timer.done(),
        **extra,
    )


def _identified_person(
    number: int,
    person: ScenePerson,
    matches: Sequence[PersonMatch],
    faces: Sequence[AnalyzedFace],
    frame_of: Sequence[SceneFrame],
    performers: Mapping[str, Performer],
    gap: float,
) -> IdentifiedPerson:
    return IdentifiedPerson(
        person=number,
        appearances=len({frame_of[i].index for i in person.face_indices}),
        frames=[
            PersonFrame(frame_of[i].index, frame_of[i].start, faces[i].detection.box_xywh())
            for i in person.face_indices
        ],
        thumbnail_jpeg=faces[person.best_face_index].crop_jpeg,
        matches=[
            PersonCandidate(performers[key], m.score, m.confidence, m.votes)
            for m in matches
            if (key := str(m.performer_key)) in performers
        ],
        time_ranges=time_ranges([frame_of[i] for i in person.face_indices], gap),
    )


def _range_gap(frames: Sequence[SceneFrame]) -> float:
    """Two sightings this close (seconds) belong to one appearance: 1.5 sample spacings."""
    times = sorted({f.start for f in frames if f.start is not None})
    steps = [b - a for a, b in pairwise(times) if b > a]
    return 1.5 * float(np.median(steps)) if steps else 0.0


def time_ranges(frames: Sequence[SceneFrame], gap: float) -> list[tuple[float, float]]:
    """The stretches of the scene a person is seen in, from the frames they appear in."""
    spans = sorted(
        (f.start, f.end if f.end is not None else f.start) for f in frames if f.start is not None
    )
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [(round(a, 3), round(b, 3)) for a, b in merged]


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


def _scene_frames(
    sprite: bytes | None, vtt: str | None, frames: Sequence[bytes] | None
) -> list[SceneFrame]:
    try:
        if sprite is not None:
            if vtt is None:
                raise InvalidInput("A sprite needs its `vtt`.", code="invalid")
            return sprite_frames(decode_sent_image(sprite, "sprite"), vtt)
        if frames:
            if len(frames) > settings.STASHSENSE_MAX_FRAMES:
                raise InvalidInput(
                    f"At most {settings.STASHSENSE_MAX_FRAMES} frames per request.",
                    code="too_many_frames",
                )
            return frames_from_images(
                [decode_sent_image(f, f"frame {i}") for i, f in enumerate(frames)]
            )
    except SceneInputError as error:
        raise InvalidInput(str(error), code="bad_scene") from error
    raise InvalidInput("Send `sprite` + `vtt`, `frames` or `stash_scene_id`.", code="no_scene")


def identify_scene(
    *,
    sprite: bytes | None = None,
    vtt: str | None = None,
    frames: Sequence[bytes] | None = None,
    video: VideoSource | None = None,
    screenshot: bytes | None = None,
    mode: str | None = None,
    frame_count: int = DEFAULT_FRAMES,
    known_performer_ids: Collection[Any] = (),
    top_k: int = 3,
    threshold: float | None = None,
    profile: str | None = None,
) -> SceneIdentification:
    """A scene from a sprite sheet + VTT, a video (`mode` sprite|video|auto), or frames.

    `auto` (the default when a video is given) reads the sprite first, then the video in
    passes until every person is settled or `frame_count` frames are read; the faces of all
    of them cluster together.
    """
    if video is None and mode != "video":  # `auto` without a video is the sprite alone
        timer = Timer()
        scene_frames = _scene_frames(sprite, vtt, frames)
        timer.lap("decode")
        result = identify_frames(
            frames=scene_frames,
            known_performer_ids=known_performer_ids,
            top_k=top_k,
            threshold=threshold,
            profile=profile,
            timer=timer,
        )
        kind = "sprite" if sprite is not None else "frames"
        return SceneIdentification(**{**result.__dict__, "mode": kind})
    if video is None:
        raise InvalidInput(
            f"mode `{mode}` needs a video: send `video` or a `stash_scene_id`.", code="no_video"
        )
    return _identify_video_scene(
        video,
        sprite=(sprite, vtt) if sprite is not None and mode != "video" else None,
        screenshot=screenshot,
        mode=mode or "auto",
        frame_count=frame_count,
        request=SceneRequest(known_performer_ids, top_k, threshold),
        profile=profile,
    )


def video_limits() -> VideoLimits:
    return VideoLimits(
        max_pixels=settings.STASHSENSE_MAX_VIDEO_PIXELS,
        decode_seconds=settings.STASHSENSE_VIDEO_DECODE_SECONDS,
    )


def _identify_video_scene(
    video: VideoSource,
    *,
    sprite: tuple[bytes, str | None] | None,
    screenshot: bytes | None,
    mode: str,
    frame_count: int,
    request: SceneRequest,
    profile: str | None,
) -> SceneIdentification:
    if mode not in SCENE_MODES:
        raise InvalidInput(f"`mode` must be one of {', '.join(SCENE_MODES)}.", code="invalid")
    if not MIN_FRAMES <= frame_count <= MAX_FRAMES:
        raise InvalidInput(
            f"`frames` must be between {MIN_FRAMES} and {MAX_FRAMES}.", code="invalid"
        )
    if mode == "sprite" and sprite is None:
        raise Unprocessable("mode `sprite` needs the scene's sprite.", code="no_sprite")
    timer = Timer()
    engine = profile_for(profile)
    context = gallery_context(engine.name)
    found = SceneFaces()
    if sprite is not None:
        found.add(engine, _scene_frames(sprite[0], sprite[1], None), scale=TILE_SCALE)
        timer.lap("sprite")
    if mode == "sprite":
        persons = _scene_decision(engine, context, found, request, timer)
        return _scene_answer(engine, context, found, persons, timer, mode="sprite")
    if screenshot is not None:
        shot = decode_sent_image(screenshot, "screenshot")
        found.add(engine, [SceneFrame(found.frames, shot)], scale=1.0)
    try:
        with VideoReader(video, limits=video_limits()) as reader:
            timer.lap("open")
            plan = _VideoPlan(mode, frame_count, request)
            persons, read = _read_video(reader, engine, context, found, plan, timer)
            duration = round(reader.info.duration, 3)
    except VideoInputError as error:
        raise InvalidInput(f"video: {error.message}", code=error.code) from error
    except VideoTimeout as error:
        raise TimedOut(f"video: {error}", code="video_timeout") from error
    ran = "auto" if sprite is not None else "video"
    return _scene_answer(
        engine, context, found, persons, timer, mode=ran, video_frames=read, duration=duration
    )


@dataclass(frozen=True)
class _VideoPlan:
    mode: str
    frame_count: int
    request: SceneRequest


def _read_video(
    reader: VideoReader,
    engine: Profile,
    context: Context,
    found: SceneFaces,
    plan: _VideoPlan,
    timer: Timer,
) -> tuple[list[IdentifiedPerson], int]:
    """Frames in passes over the whole scene (one pass unless `auto`); (persons, frames read)."""
    times = sample_times(reader.info.duration, plan.frame_count)
    passes = AUTO_PASSES if plan.mode == "auto" else 1
    first_index = found.frames  # video frames are numbered after the sprite's cues
    read = 0
    persons: list[IdentifiedPerson] = []
    for number in range(passes):
        positions = list(range(number, len(times), passes))
        frames = reader.frames_at(
            [times[p] for p in positions], indices=[first_index + p for p in positions]
        )
        timer.lap("video_decode")
        found.add(engine, frames, scale=1.0)
        timer.lap("detect_embed")
        read += len(frames)
        persons = _scene_decision(engine, context, found, plan.request, timer)
        if plan.mode == "auto" and all(_settled(person) for person in persons):
            break
    return persons, read


def _settled(person: IdentifiedPerson) -> bool:
    if person.matches:
        return person.appearances >= SETTLED_APPEARANCES
    return person.appearances >= UNKNOWN_APPEARANCES
