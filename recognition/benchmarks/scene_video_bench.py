"""`manage.py bench_scene`: a scene's video read and searched for faces, stage by stage.

The video is made from ../shared photos (three people) with PyAV into a temporary folder, at
the size asked (1080p and 720p by default). The new way opens it once, seeks to each sample's
keyframe and decodes only what is needed, scales frames to at most 1280 px, detects per frame,
embeds every face in one batch and clusters. The old way (the replaced system's) starts a
process per frame that decodes from the beginning of the file up to the sample (ffmpeg with
`-ss` after `-i`), keeps the frame at full size and runs detection + embedding (with its
mirror augmentation) frame by frame; it is timed on `old_frames` of the samples and projected
to all of them (it is linear in the frame count). Numbers are printed, never asserted.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np

from recognition.benchmarks.scene_videos import SceneVideoSpec, head_crop, scene_video_write
from recognition.clustering import cluster_faces
from recognition.engine.profile import Profile
from recognition.engine.tiles import embed_in_batches
from recognition.video import VideoReader, sample_times

CAST_PHOTOS = ("kit_harington/003.jpg", "biden/002.jpg", "deepface_p05/005.jpg")
_Result = TypeVar("_Result")


def _timed(call: Callable[[], _Result]) -> tuple[_Result, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def new_way(profile: Profile, video: Path, frames: int, *, exact: bool = False) -> dict[str, Any]:
    """Open once, seek per sample, detect per frame, embed in batches, cluster."""
    cpu_started = time.process_time()
    reader, open_ms = _timed(lambda: VideoReader(video, exact=exact))
    with reader:
        decoded, decode_ms = _timed(lambda: reader.frames(frames))
        decoded_frames = reader.stats.decoded_frames
    detections, detect_ms = _timed(lambda: [profile.detect(f.image) for f in decoded])
    chips, align_ms = _timed(
        lambda: [
            chip
            for frame, found in zip(decoded, detections, strict=True)
            if found
            for chip in profile.align(frame.image, found)
        ]
    )
    embeddings, embed_ms = _timed(lambda: embed_in_batches(profile, chips))
    owners = [f.index for f, found in zip(decoded, detections, strict=True) for _ in found]
    groups, cluster_ms = _timed(lambda: cluster_faces(embeddings, owners, metric=profile.metric))
    total = open_ms + decode_ms + detect_ms + align_ms + embed_ms + cluster_ms
    cpu_seconds = time.process_time() - cpu_started
    return {
        "frames": len(decoded),
        "faces": len(chips),
        "persons": len(groups),
        "decoded_frames": decoded_frames,
        "open_ms": round(open_ms, 1),
        "seek_decode_ms_per_frame": round(decode_ms / max(1, len(decoded)), 1),
        "detect_ms": round(detect_ms, 1),
        "embed_ms": round(align_ms + embed_ms, 1),
        "cluster_ms": round(cluster_ms, 1),
        "total_ms": round(total, 1),
        "frames_per_s": round(len(decoded) / (total / 1000), 2),
        # CPU time of all threads: on 2 idle cores the wall time is about half of it.
        "cpu_s": round(cpu_seconds, 2),
    }


def decode_only(video: Path, frames: int, *, exact: bool) -> dict[str, Any]:
    reader = VideoReader(video, exact=exact)
    with reader:
        _, decode_ms = _timed(lambda: reader.frames(frames))
        return {"decode_ms": round(decode_ms, 1), "decoded_frames": reader.stats.decoded_frames}


# What `ffmpeg -i file -ss t -frames:v 1 -f rawvideo -` does, in a process of its own: open,
# decode from the start up to t, write the full-size frame to stdout.
_FRAME_FROM_START = """
import sys, av
path, wanted = sys.argv[1], float(sys.argv[2])
with av.open(path) as container:
    for frame in container.decode(container.streams.video[0]):
        if frame.time is not None and frame.time + 1e-3 >= wanted:
            image = frame.to_ndarray(format="bgr24")
            sys.stdout.buffer.write(b"%d %d\\n" % (image.shape[1], image.shape[0]))
            sys.stdout.buffer.write(image.tobytes())
            break
"""


def _frame_from_start(video: Path, wanted: float) -> Any:
    """One process per frame, as the replaced system ran one ffmpeg per frame."""
    done = subprocess.run(
        [sys.executable, "-c", _FRAME_FROM_START, str(video), f"{wanted:.3f}"],
        capture_output=True,
        check=True,
        timeout=300,
    )
    header, _, pixels = done.stdout.partition(b"\n")
    if not header:
        return None
    width, height = (int(value) for value in header.split())
    return np.frombuffer(pixels, np.uint8).reshape(height, width, 3)


def old_way(profile: Profile, video: Path, frames: int, measured: int) -> dict[str, Any]:
    """One decode from the start per frame, detection + embedding per frame; projected."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        duration = float(stream.duration * stream.time_base)
    times = sample_times(duration, frames)
    chosen: Sequence[float] = times[:: max(1, len(times) // max(1, measured))][:measured]
    started = time.perf_counter()
    faces = 0
    for wanted in chosen:
        image = _frame_from_start(video, wanted)
        if image is not None:
            faces += len(profile.analyze(image))
    per_frame = (time.perf_counter() - started) * 1000 / max(1, len(chosen))
    return {
        "measured_frames": len(chosen),
        "faces": faces,
        "ms_per_frame": round(per_frame, 1),
        "projected_total_ms": round(per_frame * frames, 1),
    }


def bench_scene_video(
    profile: Profile,
    faces_dir: Path,
    *,
    spec: SceneVideoSpec,
    frames: int,
    old_frames: int,
    label: str,
) -> dict[str, Any]:
    heads = [head_crop(profile, faces_dir / p, spec.face_height) for p in CAST_PHOTOS]
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / f"{label}.mp4"
        _, write_ms = _timed(lambda: scene_video_write(video, heads, spec))
        rss_before = peak_rss_mb()
        new = new_way(profile, video, frames)
        keyframe = decode_only(video, frames, exact=False)
        exact = decode_only(video, frames, exact=True)
        rss_after = peak_rss_mb()
        old = old_way(profile, video, frames, old_frames) if old_frames else None
        size_mb = video.stat().st_size / 1e6
    result: dict[str, Any] = {
        "video": f"{spec.width}x{spec.height} H.264, {spec.seconds:g} s at {spec.fps} fps, "
        f"keyframe every {spec.gop} frames, {size_mb:.1f} MB (written in {write_ms / 1000:.1f} s)",
        "new": new,
        "seek": {"keyframe": keyframe, "exact": exact},
        "peak_rss_mb": round(rss_after, 1),
        "peak_rss_growth_mb": round(rss_after - rss_before, 1),
    }
    if old is not None:
        result["old"] = old
        result["old_over_new"] = round(old["projected_total_ms"] / new["total_ms"], 1)
    return result
