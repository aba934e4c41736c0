from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.configured_profile import profile_for
from recognition.engine.benchmark import benchmark_profile, benchmark_throughput
from recognition.engine.images import decode_image
from recognition.identification import identify_image, identify_scene
from stashsense.errors import ApplicationError

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "faces"


class Command(BaseCommand):
    help = "Time the default profile and identification end to end; prints JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--image", type=Path, default=SHARED / "obama" / "001.jpg")
        parser.add_argument(
            "--sprite", type=Path, default=SHARED / "sprites" / "dev_stills_sprite.jpg"
        )
        parser.add_argument(
            "--vtt", type=Path, default=SHARED / "sprites" / "dev_stills_thumbs.vtt"
        )
        parser.add_argument(
            "--tiles", type=int, default=81, help="Tiles per synthetic sprite (81 = 9x9)."
        )
        parser.add_argument("--repeats", type=int, default=5)
        parser.add_argument(
            "--processes",
            type=int,
            default=2,
            help="Worker processes for the throughput run over the dev photos (0: skip it).",
        )

    def emit(self, **fields: Any) -> None:
        self.stdout.write(json.dumps(fields))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._bench(options)
        except ApplicationError as error:
            raise CommandError(error.message) from error

    def _bench(self, options: dict[str, Any]) -> None:
        profile = profile_for()
        image_bytes = options["image"].read_bytes()
        image = decode_image(image_bytes, max_pixels=100_000_000)
        self.emit(
            bench="engine", **benchmark_profile(profile, image, repeats=options["repeats"] * 4)
        )
        photos = sorted(  # the labelled portraits: not group photos, sprites or videos
            p
            for p in SHARED.glob("*/*.jpg")
            if not p.parent.name.startswith("_") and p.parent.name not in ("sprites", "videos")
        )
        if options["processes"] > 0 and photos:
            self.emit(
                bench="throughput",
                **benchmark_throughput(
                    profile.name, settings.MODELS_DIR, photos, processes=options["processes"]
                ),
            )
        identify_image(data=image_bytes)  # loads the index
        timings = [
            self._seconds(lambda: identify_image(data=image_bytes))
            for _ in range(options["repeats"] * 4)
        ]
        self.emit(bench="identify_image", median_ms=round(statistics.median(timings) * 1000, 1))
        sprite, vtt = self._sprite(
            options["sprite"].read_bytes(), options["vtt"].read_text(), options["tiles"]
        )
        result = identify_scene(sprite=sprite, vtt=vtt)
        timings = [
            self._seconds(lambda: identify_scene(sprite=sprite, vtt=vtt))
            for _ in range(options["repeats"])
        ]
        self.emit(
            bench="identify_scene",
            tiles=options["tiles"],
            faces=result.faces,
            persons=len(result.persons),
            median_s=round(statistics.median(timings), 3),
            last_timings_ms=result.timings_ms,
        )

    @staticmethod
    def _seconds(call: Any) -> float:
        started = time.perf_counter()
        call()
        return time.perf_counter() - started

    @staticmethod
    def _sprite(sprite: bytes, vtt: str, tiles: int) -> tuple[bytes, str]:
        """A 9x9 (by default) sprite made by repeating the given sprite's tiles, with its VTT."""
        import cv2

        from recognition.scenes import parse_vtt, sprite_tiles

        source = decode_image(sprite, max_pixels=100_000_000)
        cells = sprite_tiles(source, parse_vtt(vtt))
        columns = int(np.ceil(np.sqrt(tiles)))
        height, width = cells[0].shape[:2]
        canvas = np.zeros(
            (height * int(np.ceil(tiles / columns)), width * columns, 3), dtype=np.uint8
        )
        lines = ["WEBVTT", ""]
        for index in range(tiles):
            row, column = divmod(index, columns)
            canvas[row * height : (row + 1) * height, column * width : (column + 1) * width] = (
                cells[index % len(cells)]
            )
            start, end = index * 5, index * 5 + 5
            lines += [
                f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}.000 --> {end // 3600:02d}:{end // 60 % 60:02d}:{end % 60:02d}.000",
                f"sprite.jpg#xywh={column * width},{row * height},{width},{height}",
                "",
            ]
        ok, encoded = cv2.imencode(".jpg", canvas)
        assert ok
        return encoded.tobytes(), "\n".join(lines)
