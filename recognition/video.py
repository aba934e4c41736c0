"""Frames of a scene read from its video with PyAV (FFmpeg inside the wheel, no ffmpeg binary).

The source is opened once; for each sample time the demuxer seeks to the keyframe at or before
it and decodes forward only as far as needed. Two ways to stop decoding were measured
(`manage.py bench_scene`): at the keyframe itself ("keyframe") or at the first frame at or
after the sample time ("exact"). On real scenes (30 min, a keyframe every few seconds, 60
samples 27 s apart) the keyframe is a different picture for every sample and costs one
decoded frame instead of up to a whole GOP, so it is the default; the frame's real time is
what the answer shows. Where samples fall closer together than keyframes (short clips), the
same keyframe would come back twice: then that sample decodes forward to its exact time.

Frames are scaled inside FFmpeg (swscale) to at most `max_side` pixels on their long side
before they reach numpy: detection runs on a 640 canvas anyway, and a 4K frame as BGR is 25 MB.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av
import av.error
import numpy as np

from recognition.scenes import SceneFrame, SceneInputError

# A path, or a seekable binary file (an upload, a RangedReader over Stash's stream).
VideoSource = str | Path | IO[bytes] | io.RawIOBase
# Where the samples lie: 5-95 % of the duration (intros and credits left out).
SAMPLE_START = 0.05
SAMPLE_END = 0.95
MIN_FRAMES = 5
MAX_FRAMES = 240
DEFAULT_FRAMES = 60
DEFAULT_MAX_SIDE = 1280
# A GOP longer than this many frames (10 s at 25 fps) is not decoded through: the sample
# takes the last frame reached.
MAX_FRAMES_PER_SEEK = 250
# A sample at most this far past the last decoded frame is reached by decoding on, not seeking
# (about one keyframe interval of common encodes).
FORWARD_SECONDS = 2.0
# Containers FFmpeg opens as "video" that are really one still image.
IMAGE_FORMATS = {"image2", "mjpeg"}


class VideoInputError(SceneInputError):
    """The video cannot be used (not a video, corrupt, no picture...); `code` says which."""

    def __init__(self, message: str, code: str = "bad_video") -> None:
        super().__init__(message)
        self.code = code


class VideoTimeout(Exception):
    """Decoding ran past the request's time limit (a stalled stream, a pathological file)."""


@dataclass(frozen=True)
class VideoLimits:
    """Bounds for one request: decoded size, wall-clock time and the frames' scaled size."""

    max_pixels: int = 40_000_000
    decode_seconds: float = 120.0
    max_side: int = DEFAULT_MAX_SIDE


@dataclass
class DecodeStats:
    """Where the decoding time went, for `timings_ms` and the benchmark."""

    open_ms: float = 0.0
    frame_ms: list[float] = field(default_factory=list)
    decoded_frames: int = 0


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    width: int
    height: int
    codec: str


def sample_times(duration: float, count: int) -> list[float]:
    """`count` times evenly spread over 5-95 % of `duration` (both ends included)."""
    if count < 1 or duration <= 0:
        return []
    first, last = duration * SAMPLE_START, duration * SAMPLE_END
    if count == 1:
        return [(first + last) / 2]
    step = (last - first) / (count - 1)
    return [first + step * index for index in range(count)]


class VideoReader:
    """One open video: its facts, and frames at chosen times (see the module docs)."""

    def __init__(
        self,
        source: VideoSource,
        *,
        limits: VideoLimits | None = None,
        exact: bool = False,
        deadline: float | None = None,
    ) -> None:
        self.limits = limits or VideoLimits()
        self.exact = exact
        self.deadline = deadline or time.monotonic() + self.limits.decode_seconds
        self.stats = DecodeStats()
        started = time.perf_counter()
        self._container = _open(source)
        try:
            self._stream = self._video_stream()
            self.info = self._probe()
        except BaseException:
            self._container.close()
            raise
        self.stats.open_ms = (time.perf_counter() - started) * 1000
        self._last_time = -1.0  # the latest frame handed out
        self._decoded_to = -1.0  # the latest frame decoded since the last seek (-1: none)

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def frames(self, count: int, *, first_index: int = 0) -> list[SceneFrame]:
        """`count` frames evenly over 5-95 % of the video, numbered from `first_index`."""
        times = sample_times(self.info.duration, count)
        return self.frames_at(times, indices=[first_index + i for i in range(len(times))])

    def frames_at(
        self, times: Sequence[float], *, indices: Sequence[int] | None = None
    ) -> list[SceneFrame]:
        """The frames at `times` (numbered by `indices`, else 0, 1, ...); frames that do not
        decode are left out, and none at all is an error."""
        numbers = list(indices) if indices is not None else list(range(len(times)))
        frames = []
        for number, wanted in zip(numbers, times, strict=True):
            started = time.perf_counter()
            found = self.frame_at(wanted)
            self.stats.frame_ms.append((time.perf_counter() - started) * 1000)
            if found is not None:
                shown_at, image = found
                frames.append(SceneFrame(number, image, start=round(shown_at, 3)))
        if not frames:
            raise VideoInputError("no frame of the video could be decoded", code="bad_video")
        return frames

    def frame_at(self, wanted: float) -> tuple[float, Any] | None:
        """(the frame's real time, BGR image) for the sample at `wanted` seconds; None when
        nothing decodes there (a damaged stretch: the other samples still count)."""
        base = self._stream.time_base or Fraction(1, 1000)
        try:
            if 0 <= self._decoded_to < wanted <= self._decoded_to + FORWARD_SECONDS:
                # Just ahead of where decoding stands: going on is cheaper than a seek back.
                frame = self._decode_to(wanted, exact=True)
            else:
                self._seek(wanted)
                frame = self._decode_to(wanted, exact=self.exact)
                if frame is not None and _time_of(frame, base) <= self._last_time:
                    # Same keyframe as the previous sample: decode on to this sample's time.
                    frame = self._decode_to(wanted, exact=True)
        except av.error.FFmpegError:
            self._decoded_to = -1.0
            return None
        if frame is None:
            return None
        shown_at = _time_of(frame, base)
        self._last_time = max(self._last_time, shown_at)
        return shown_at, self._scaled(frame)

    # -- internals -------------------------------------------------------------------------

    def _video_stream(self) -> Any:
        container = self._container
        if container.format.name in IMAGE_FORMATS or container.format.name.endswith("_pipe"):
            raise VideoInputError("this is an image, not a video", code="not_a_video")
        if not container.streams.video:
            kind = "only audio" if container.streams.audio else "no streams FFmpeg can read"
            raise VideoInputError(f"the file has no video stream ({kind})", code="no_video_stream")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > self.limits.max_pixels:
            raise VideoInputError(
                f"the video is {width}x{height}, over the {self.limits.max_pixels:,}-pixel "
                "decoded-size limit (STASHSENSE_MAX_VIDEO_PIXELS)",
                code="video_too_large",
            )
        stream.codec_context.thread_count = 2
        return stream

    def _probe(self) -> VideoInfo:
        stream = self._stream
        duration = 0.0
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        if duration <= 0 and self._container.duration:
            duration = self._container.duration / av.time_base
        if not duration > 0:
            raise VideoInputError(
                "the video has no duration (zero length, or none recorded in the file)",
                code="zero_duration",
            )
        context = stream.codec_context
        return VideoInfo(duration, context.width, context.height, context.name)

    def _packets(self) -> Iterator[Any]:
        for packet in self._container.demux(self._stream):
            if time.monotonic() > self.deadline:
                raise VideoTimeout(
                    f"decoding took longer than {self.limits.decode_seconds:g} s "
                    "(STASHSENSE_VIDEO_DECODE_SECONDS)"
                )
            yield packet

    def _seek(self, wanted: float) -> None:
        stream = self._stream
        base = stream.time_base or Fraction(1, 1000)
        start = stream.start_time or 0
        self._container.seek(
            start + int(wanted / base), stream=stream, backward=True, any_frame=False
        )
        self._decoded_to = -1.0

    def _decode_to(self, wanted: float, *, exact: bool) -> Any:
        base = self._stream.time_base or Fraction(1, 1000)
        last = None
        decoded = 0
        for packet in self._packets():
            for frame in packet.decode():
                self.stats.decoded_frames += 1
                decoded += 1
                last = frame
                self._decoded_to = _time_of(frame, base)
                if not exact or _time_of(frame, base) + 0.0005 >= wanted:
                    return frame
                if decoded >= MAX_FRAMES_PER_SEEK:
                    return frame
        return last

    def _scaled(self, frame: Any) -> Any:
        width, height = frame.width, frame.height
        if width * height > self.limits.max_pixels:
            raise VideoInputError(
                f"a frame is {width}x{height}, over the decoded-size limit", code="video_too_large"
            )
        scale = min(1.0, self.limits.max_side / max(width, height))
        size = (max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))
        image = frame.to_ndarray(format="bgr24", width=size[0], height=size[1])
        return np.ascontiguousarray(image)


def _time_of(frame: Any, base: Fraction) -> float:
    if frame.pts is None:
        return float(frame.time or 0.0)
    return float(frame.pts * base)


def _open(source: VideoSource) -> Any:
    try:
        return av.open(str(source) if isinstance(source, Path) else source, mode="r")
    except (av.error.InvalidDataError, av.error.EOFError) as error:
        raise VideoInputError(
            "not a video FFmpeg can read (unknown format, or a truncated or corrupt file)",
            code="not_a_video",
        ) from error
    except av.error.FFmpegError as error:
        raise VideoInputError(f"the video cannot be opened: {error}", code="bad_video") from error
