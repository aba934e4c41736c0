"""Identification timed end to end, as the API and a library scan run it.

`manage.py bench_identify` prints `identify_image_timing` and `identify_scene_timing` (with the
gallery index loaded first); `manage.py bench_scan` prints `scan_scene_timing`, which times the
whole identification when an index is built and detection plus embedding alone otherwise.
Wall-clock numbers, printed and never asserted.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

from recognition.configured_profile import profile_for
from recognition.identification import TILE_UPSCALE, identify_image, identify_scene
from recognition.scenes import sprite_frames
from recognition.selectors import active_index


def identify_image_timing(image: bytes, *, repeats: int) -> dict[str, Any]:
    """Median milliseconds of `identify_image` on `image`, after a first call that loads it all."""
    identify_image(data=image)  # loads the models and the index
    timings = [_seconds(lambda: identify_image(data=image)) for _ in range(max(1, repeats))]
    return {"median_ms": round(statistics.median(timings) * 1000, 1)}


def identify_scene_timing(sprite: bytes, vtt: str, *, repeats: int) -> dict[str, Any]:
    """Median seconds of `identify_scene`, with what the first run found and its stage times."""
    result = identify_scene(sprite=sprite, vtt=vtt)
    timings = [
        _seconds(lambda: identify_scene(sprite=sprite, vtt=vtt)) for _ in range(max(1, repeats))
    ]
    return {
        "faces": result.faces,
        "persons": len(result.persons),
        "median_s": round(statistics.median(timings), 3),
        "last_timings_ms": result.timings_ms,
    }


def scan_scene_timing(sprite: bytes, vtt: str, *, repeat: int) -> dict[str, Any]:
    """Seconds (wall and CPU) per scene, as a library scan spends them on this sprite."""
    tiles = len(sprite_frames(sprite, vtt))
    run = _identify if active_index() is not None else _detect_and_embed
    run(sprite, vtt)  # warm-up: loads the models and the index
    seconds, cpu_seconds, extra = [], [], {}
    for _ in range(max(1, repeat)):
        started, cpu_started = time.perf_counter(), time.process_time()
        extra = run(sprite, vtt)
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
    return {
        "tiles": tiles,
        "seconds_per_scene": round(statistics.median(seconds), 3),
        "ms_per_tile": round(1000 * statistics.median(seconds) / tiles, 1),
        "runs": [round(s, 3) for s in seconds],
        # CPU time of all threads: what the scene costs when the machine is shared.
        "cpu_seconds_per_scene": round(statistics.median(cpu_seconds), 3),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "ort_threads": settings.STASHSENSE_ORT_THREADS,
        **extra,
    }


def _identify(sprite: bytes, vtt: str) -> dict[str, Any]:
    body = identify_scene(sprite=sprite, vtt=vtt)
    return {
        "measured": "identify_scene",
        "faces": body.faces,
        "persons": len(body.persons),
        "timings_ms": body.timings_ms,
    }


def _detect_and_embed(sprite: bytes, vtt: str) -> dict[str, Any]:
    engine = profile_for(None)
    faces = 0
    for frame in sprite_frames(sprite, vtt):
        upscale = TILE_UPSCALE if max(frame.image.shape[:2]) < TILE_UPSCALE else None
        faces += len(engine.analyze(frame.image, upscale_to=upscale))
    return {"measured": "detect_and_embed (no index built)", "faces": faces}


def _seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started
