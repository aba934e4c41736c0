"""Frames of a Stash scene: the sprite sheet and its WebVTT cue list, or plain images.

Stash writes one JPEG grid of preview frames (`<name>_sprite.jpg`, 160 px wide cells) and a
VTT whose cues are `HH:MM:SS.mmm --> HH:MM:SS.mmm` followed by
`<name>_sprite.jpg#xywh=x,y,w,h`. Tiles stay at their native size here; the engine upscales
them for detection.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recognition.engine.errors import ImageError
from recognition.engine.images import decode_image as engine_decode_image

Image = npt.NDArray[np.uint8]
# What callers hand in: cv2 and numpy arrays are typed loosely; tiles keep their dtype.
AnyImage = npt.NDArray[Any]

# A decoded sprite or frame larger than this is refused (a 9x9 grid of 160x90 is 1.2 MP).
MAX_IMAGE_PIXELS = 64_000_000
MAX_CUES = 10_000

_TIMESTAMP = re.compile(r"^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_TIMING_LINE = re.compile(r"^(\S+)\s+-->\s+(\S+)(?:\s+.*)?$")
_XYWH = re.compile(r"#xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)\s*$")


class SceneInputError(Exception):
    """The sprite, VTT or frames sent for a scene cannot be used; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SpriteCue:
    """One preview frame: its time span in the scene (seconds) and its cell in the sprite."""

    index: int
    start: float
    end: float
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class SceneFrame:
    """A frame to search for faces, with the time it shows (None when unknown)."""

    index: int
    image: AnyImage
    start: float | None = None
    end: float | None = None


def parse_vtt(text: str) -> list[SpriteCue]:
    """Read Stash's thumbnail VTT; raises SceneInputError naming the first bad line."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    position = 0
    if lines and lines[0].startswith("WEBVTT"):
        position = _skip_block(lines, 0)
    cues: list[SpriteCue] = []
    while position < len(lines):
        if not lines[position].strip():
            position += 1
            continue
        block_end = _skip_block(lines, position)
        cue = _parse_block(lines, position, block_end, len(cues))
        if cue is not None:
            cues.append(cue)
            if len(cues) > MAX_CUES:
                raise SceneInputError(f"VTT has more than {MAX_CUES} cues")
        position = block_end
    if not cues:
        raise SceneInputError("VTT has no cues (expected 'start --> end' lines)")
    return cues


def _skip_block(lines: list[str], position: int) -> int:
    while position < len(lines) and lines[position].strip():
        position += 1
    return position


def _parse_block(lines: list[str], start: int, end: int, index: int) -> SpriteCue | None:
    first = lines[start].strip()
    if first.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in first:
        return None
    timing_at = start if "-->" in first else start + 1  # an optional cue identifier first
    if timing_at >= end or "-->" not in lines[timing_at]:
        raise SceneInputError(f"VTT line {start + 1}: expected 'start --> end', got {first!r}")
    begins, ends = _parse_timing(lines[timing_at].strip(), timing_at + 1)
    if timing_at + 1 >= end:
        raise SceneInputError(f"VTT line {timing_at + 1}: cue has no '#xywh=' payload line")
    payload_line = timing_at + 2
    x, y, w, h = _parse_xywh(lines[timing_at + 1].strip(), payload_line)
    return SpriteCue(index=index, start=begins, end=ends, x=x, y=y, w=w, h=h)


def _parse_timing(line: str, line_number: int) -> tuple[float, float]:
    match = _TIMING_LINE.match(line)
    if match is None:
        raise SceneInputError(f"VTT line {line_number}: bad cue timing {line!r}")
    start = _parse_timestamp(match.group(1), line_number)
    end = _parse_timestamp(match.group(2), line_number)
    if end < start:
        raise SceneInputError(f"VTT line {line_number}: cue ends before it starts: {line!r}")
    return start, end


def _parse_timestamp(text: str, line_number: int) -> float:
    match = _TIMESTAMP.match(text)
    if match is None:
        raise SceneInputError(
            f"VTT line {line_number}: bad timestamp {text!r} (expected HH:MM:SS.mmm or MM:SS.mmm)"
        )
    hours, minutes, seconds, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _parse_xywh(line: str, line_number: int) -> tuple[int, int, int, int]:
    match = _XYWH.search(line)
    if match is None:
        raise SceneInputError(
            f"VTT line {line_number}: expected '<sprite>#xywh=x,y,w,h', got {line!r}"
        )
    x, y, w, h = (int(value) for value in match.groups())
    if w == 0 or h == 0:
        raise SceneInputError(f"VTT line {line_number}: empty cell {line!r}")
    return x, y, w, h


def sprite_tiles(sprite_bgr: AnyImage, cues: Sequence[SpriteCue]) -> list[AnyImage]:
    """Cut one tile per cue out of the sprite; a cue outside the sprite is an error."""
    if sprite_bgr.ndim < 2:
        raise SceneInputError("sprite is not an image")
    height, width = sprite_bgr.shape[:2]
    tiles = []
    for cue in cues:
        if cue.x + cue.w > width or cue.y + cue.h > height:
            raise SceneInputError(
                f"cue {cue.index} (xywh={cue.x},{cue.y},{cue.w},{cue.h}) lies outside the "
                f"{width}x{height} sprite"
            )
        tiles.append(sprite_bgr[cue.y : cue.y + cue.h, cue.x : cue.x + cue.w].copy())
    return tiles


def sprite_frames(sprite: bytes | AnyImage, vtt_text: str) -> list[SceneFrame]:
    """The frames of a scene from its sprite (encoded bytes or BGR array) and VTT text."""
    image = decode_image(sprite, what="sprite") if isinstance(sprite, bytes) else sprite
    cues = parse_vtt(vtt_text)
    return [
        SceneFrame(index=cue.index, image=tile, start=cue.start, end=cue.end)
        for cue, tile in zip(cues, sprite_tiles(image, cues), strict=True)
    ]


def frames_from_images(images: Sequence[bytes | AnyImage]) -> list[SceneFrame]:
    """Frames from separate images (encoded bytes or BGR arrays), numbered in order."""
    if not images:
        raise SceneInputError("no frames were sent")
    return [
        SceneFrame(
            index=index,
            image=decode_image(image, what=f"frame {index}") if isinstance(image, bytes) else image,
        )
        for index, image in enumerate(images)
    ]


def decode_image(data: bytes, *, what: str = "image") -> Image:
    """Decode image bytes to BGR with the engine's checks (pixel count read from the header
    before decoding, so a decompression bomb is refused unopened)."""
    try:
        return engine_decode_image(data, max_pixels=MAX_IMAGE_PIXELS)
    except ImageError as error:
        raise SceneInputError(f"{what}: {error}") from error
