"""`manage.py bench_scan [--sprite S --vtt V] [--repeat N]`: seconds per scene, as a scan sees it.

Without --sprite it builds an 81-tile (9x9, 160x90) Stash-style sprite from the real tiles of
the shared dev sprites, the size Stash generates for every scene. With an index built, the
whole identification is timed (decode, detect + embed, search, clustering); without one, only
detection and embedding, which is nearly all of the time.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.configured_profile import profile_for
from recognition.identification import TILE_UPSCALE, identify_scene
from recognition.scenes import sprite_frames
from recognition.selectors import active_index
from stashsense.errors import ApplicationError

SHARED_SPRITES = Path(settings.BASE_DIR).parent / "shared" / "faces" / "sprites"
GRID = 9
TILE_W, TILE_H = 160, 90


def stash_sprite_from_tiles(tiles: list[np.ndarray], count: int = GRID * GRID) -> tuple[bytes, str]:
    """A JPEG sprite of `count` tiles (cycling through `tiles`) and its VTT, as Stash makes them."""
    rows = (count + GRID - 1) // GRID
    sheet = np.zeros((rows * TILE_H, GRID * TILE_W, 3), dtype=np.uint8)
    cues = ["WEBVTT", ""]
    for index in range(count):
        y, x = divmod(index, GRID)
        tile = cv2.resize(tiles[index % len(tiles)], (TILE_W, TILE_H))
        sheet[y * TILE_H : (y + 1) * TILE_H, x * TILE_W : (x + 1) * TILE_W] = tile
        start, end = index * 5, index * 5 + 5
        cues += [
            f"{_stamp(start)} --> {_stamp(end)}",
            f"bench_sprite.jpg#xywh={x * TILE_W},{y * TILE_H},{TILE_W},{TILE_H}",
            "",
        ]
    ok, encoded = cv2.imencode(".jpg", sheet, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise CommandError("could not encode the benchmark sprite")
    return bytes(encoded.tobytes()), "\n".join(cues)


def _stamp(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.000"


def _shared_tiles() -> list[np.ndarray]:
    tiles = []
    for name in ("dev_stills", "dev_video"):
        sprite = SHARED_SPRITES / f"{name}_sprite.jpg"
        vtt = SHARED_SPRITES / f"{name}_thumbs.vtt"
        if sprite.is_file() and vtt.is_file():
            tiles += [f.image for f in sprite_frames(sprite.read_bytes(), vtt.read_text())]
    if not tiles:
        raise CommandError(f"No sprites under {SHARED_SPRITES}: pass --sprite and --vtt.")
    return tiles


class Command(BaseCommand):
    help = "Time the identification of one Stash scene (an 81-tile sprite) on this machine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sprite", type=Path, default=None)
        parser.add_argument("--vtt", type=Path, default=None)
        parser.add_argument("--repeat", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["sprite"]) != bool(options["vtt"]):
            raise CommandError("--sprite and --vtt go together.")
        if options["sprite"]:
            sprite, vtt = options["sprite"].read_bytes(), options["vtt"].read_text()
        else:
            sprite, vtt = stash_sprite_from_tiles(_shared_tiles())
        tiles = len(sprite_frames(sprite, vtt))
        try:
            run = self._identify if active_index() is not None else self._detect_and_embed
            run(sprite, vtt)  # warm-up: loads the models and the index
            seconds, cpu_seconds, extra = [], [], {}
            for _ in range(max(1, options["repeat"])):
                started, cpu_started = time.perf_counter(), time.process_time()
                extra = run(sprite, vtt)
                seconds.append(time.perf_counter() - started)
                cpu_seconds.append(time.process_time() - cpu_started)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        result = {
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
        self.stdout.write(json.dumps(result))

    def _identify(self, sprite: bytes, vtt: str) -> dict[str, Any]:
        result = identify_scene(sprite=sprite, vtt=vtt)
        return {
            "measured": "identify_scene",
            "faces": result.faces,
            "persons": len(result.persons),
            "timings_ms": result.timings_ms,
        }

    def _detect_and_embed(self, sprite: bytes, vtt: str) -> dict[str, Any]:
        engine = profile_for(None)
        faces = 0
        for frame in sprite_frames(sprite, vtt):
            upscale = TILE_UPSCALE if max(frame.image.shape[:2]) < TILE_UPSCALE else None
            faces += len(engine.analyze(frame.image, upscale_to=upscale))
        return {"measured": "detect_and_embed (no index built)", "faces": faces}
