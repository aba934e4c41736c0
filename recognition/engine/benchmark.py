"""Time the engine's stages on this machine (`python -m recognition.engine.benchmark`).

Prints numbers; never asserted in tests (wall-clock time depends on the machine's load).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from recognition.engine.profile import Profile
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


def _median_ms(call: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000.0)
    return round(statistics.median(timings), 2)


def main() -> None:
    from recognition.engine.profiles import DEFAULT_PROFILE, get_profile

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
