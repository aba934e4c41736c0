"""Scene videos made from real photos, for tests and `manage.py bench_scene`.

A scene is a cast of people (one or more photos each) standing side by side on a slowly
changing background, drifting a little so no two frames are the same picture. Each photo is
cut around its face (found by the profile's detector) and scaled so the face is `face_height`
pixels tall in the frame, which is what decides whether a sprite tile or a video frame can
name someone. Written as H.264 with PyAV; nothing here is kept in the repository.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from recognition.engine.detector import primary_face_index
from recognition.engine.images import decode_image
from recognition.engine.profile import Profile
from recognition.engine.types import ImageBGR


@dataclass(frozen=True)
class SceneVideoSpec:
    width: int = 1280
    height: int = 720
    seconds: float = 20.0
    fps: int = 10
    face_height: int = 110
    gop: int = 50  # frames between keyframes (x264's default is 250)
    preset: str = "ultrafast"


def head_crop(profile: Profile, photo: Path, face_height: int) -> ImageBGR:
    """The head and shoulders of a photo's main face, scaled to a face `face_height` tall."""
    image = decode_image(photo.read_bytes(), max_pixels=50_000_000)
    detections = profile.detect(image, upscale_to=640)
    index = primary_face_index(detections, image.shape[1], image.shape[0])
    if index is None:
        raise ValueError(f"no face in {photo}")
    face = detections[index]
    cx, cy = (face.x1 + face.x2) / 2, (face.y1 + face.y2) / 2
    half_w, half_h = face.width * 1.1, face.height * 1.3
    x1, x2 = int(max(0, cx - half_w)), int(min(image.shape[1], cx + half_w))
    y1, y2 = int(max(0, cy - half_h)), int(min(image.shape[0], cy + half_h * 1.2))
    crop = image[y1:y2, x1:x2]
    scale = face_height / face.height
    resized = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(resized)


def scene_frame(spec: SceneVideoSpec, heads: Sequence[ImageBGR], number: int) -> ImageBGR:
    """Frame `number`: the background of its time with every head at its drifting place."""
    t = number / spec.fps
    shade = np.linspace(40, 140, spec.width, dtype=np.float32)
    base = (shade[None, :] * (0.8 + 0.2 * math.sin(t / 3))).astype(np.uint8)
    frame = np.repeat(np.repeat(base, spec.height, axis=0)[:, :, None], 3, axis=2)
    frame[:, :, 0] = np.uint8(60 + 40 * math.sin(t / 5))
    for place, head in enumerate(heads):
        h, w = head.shape[:2]
        cx = spec.width * (place + 1) / (len(heads) + 1) + 25 * math.sin(t / 2 + place)
        cy = spec.height * 0.45 + 10 * math.cos(t / 3 + place)
        x, y = int(cx - w / 2), int(cy - h / 2)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(spec.width, x + w), min(spec.height, y + h)
        if x1 > x0 and y1 > y0:
            frame[y0:y1, x0:x1] = head[y0 - y : y1 - y, x0 - x : x1 - x]
    return frame


def scene_video_write(
    destination: Path, heads: Sequence[ImageBGR], spec: SceneVideoSpec | None = None
) -> Path:
    """Write an H.264 MP4 of `heads` to `destination`."""
    spec = spec or SceneVideoSpec()
    with av.open(str(destination), mode="w") as container:
        stream = container.add_stream(
            "libx264",
            rate=spec.fps,
            options={"preset": spec.preset, "g": str(spec.gop), "keyint_min": str(spec.gop)},
        )
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        for number in range(int(spec.seconds * spec.fps)):
            picture = av.VideoFrame.from_ndarray(scene_frame(spec, heads, number), format="bgr24")
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return destination


def stash_sprite_of_video(video: Path, *, tiles: int = 81, columns: int = 9) -> tuple[bytes, str]:
    """Stash's preview of a video: `tiles` frames evenly over it, 160 px wide, in a grid,
    and the VTT that names their cells (pkg/scene/generate/sprite.go's layout)."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        base = stream.time_base
        assert base is not None and stream.duration is not None
        duration = float(stream.duration * base)
        images = []
        for index in range(tiles):
            wanted = duration * index / tiles
            container.seek(int(wanted / base), stream=stream, backward=True)
            frame = next(
                f
                for f in container.decode(stream)
                if f.pts is not None and f.pts * base + 1e-3 >= wanted
            )
            width = 160
            height = round(frame.height * width / frame.width)
            images.append(frame.to_ndarray(format="bgr24", width=width, height=height))
    height, width = images[0].shape[:2]
    rows = math.ceil(tiles / columns)
    sprite = np.zeros((rows * height, columns * width, 3), np.uint8)
    lines = ["WEBVTT", ""]
    step = duration / tiles
    for index, image in enumerate(images):
        x, y = (index % columns) * width, (index // columns) * height
        sprite[y : y + height, x : x + width] = image
        lines += [
            f"{_vtt_time(index * step)} --> {_vtt_time((index + 1) * step)}",
            f"scene_sprite.jpg#xywh={x},{y},{width},{height}",
            "",
        ]
    ok, encoded = cv2.imencode(".jpg", sprite, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return encoded.tobytes(), "\n".join(lines)


def _vtt_time(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"
