"""The engine's stages timed on this machine: `manage.py bench_identify`, or without Django
`python -m recognition.benchmarks.engine PHOTO [--profile P --threads T]`.

`benchmark_profile` times detection, alignment, embedding and analyze() on one photo;
`benchmark_throughput` counts faces per second over photos in worker processes. Prints
numbers; never asserted in tests (wall-clock time depends on the machine's load).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from recognition.engine.images import decode_image
from recognition.engine.profile import Profile
from recognition.engine.profile_registry import DEFAULT_PROFILE, get_profile
from recognition.engine.types import ImageBGR


def benchmark_profile(
    profile: Profile, image_bgr: ImageBGR, *, repeats: int = 20
) -> dict[str, Any]:
    """Median milliseconds of detection (one canvas), alignment+embedding per face, and
    analyze() end to end, on `image_bgr` (best with exactly one face)."""
    detections = profile.detect(image_bgr)
    if not detections:
        raise ValueError("the benchmark image has no detectable face")
    one_face = detections[:1]
    chips = profile.align(image_bgr, one_face)
    profile.analyze(image_bgr)  # warm-up: first runs allocate and optimise
    return {
        "profile": profile.name,
        "providers": profile.providers(),
        "image": f"{image_bgr.shape[1]}x{image_bgr.shape[0]}",
        "faces": len(detections),
        "detect_ms": _median_ms(lambda: profile.detect(image_bgr), repeats),
        "align_ms_per_face": _median_ms(lambda: profile.align(image_bgr, one_face), repeats),
        "embed_ms_per_face": _median_ms(lambda: profile.embed_chips(chips), repeats),
        "analyze_ms": _median_ms(lambda: profile.analyze(image_bgr), repeats),
    }


_worker_profile: Profile | None = None  # one per throughput worker process


def _throughput_init(name: str, models_dir: str, warm_up: str) -> None:
    global _worker_profile
    _worker_profile = get_profile(name, Path(models_dir), threads=1)
    _worker_profile.analyze(decode_image(Path(warm_up).read_bytes()))


def _throughput_share(paths: list[str]) -> int:
    assert _worker_profile is not None
    faces = 0
    for path in paths:
        faces += len(_worker_profile.analyze(decode_image(Path(path).read_bytes()), max_faces=1))
    return faces


def benchmark_throughput(
    name: str, models_dir: Path, photos: list[Path], *, processes: int = 2, rounds: int = 3
) -> dict[str, Any]:
    """Faces decoded, detected, aligned and embedded per second by `processes` worker
    processes (one onnxruntime thread each), over `photos` repeated `rounds` times."""
    work = [str(path) for path in photos] * max(1, rounds)
    shares = [work[start::processes] for start in range(processes)]
    with ProcessPoolExecutor(
        processes,
        mp_context=get_context("spawn"),
        initializer=_throughput_init,
        initargs=(name, str(models_dir), str(photos[0])),
    ) as pool:
        list(pool.map(_throughput_share, [[str(photos[0])]] * processes))  # all loaded
        started = time.perf_counter()
        faces = sum(pool.map(_throughput_share, shares))
        seconds = time.perf_counter() - started
    return {
        "profile": name,
        "processes": processes,
        "photos": len(work),
        "faces": faces,
        "seconds": round(seconds, 2),
        "faces_per_second": round(faces / seconds, 1),
    }


def _median_ms(call: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000.0)
    return round(statistics.median(timings), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("image", type=Path, help="a photo with one face")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--profile", default=DEFAULT_PROFILE)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    arguments = parser.parse_args()
    image = cv2.imread(str(arguments.image), cv2.IMREAD_COLOR)
    if image is None:
        parser.error(f"cannot read {arguments.image}")
    profile = get_profile(arguments.profile, arguments.models_dir, threads=arguments.threads)
    result = benchmark_profile(profile, np.asarray(image, np.uint8), repeats=arguments.repeats)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
