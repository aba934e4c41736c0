from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.benchmarks.engine import benchmark_profile, benchmark_throughput
from recognition.benchmarks.identify import identify_image_timing, identify_scene_timing
from recognition.benchmarks.sprites import STASH_TILES, sprite_tiles_of, stash_sprite_from_tiles
from recognition.configured_profile import profile_for
from recognition.engine.images import decode_image
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
            "--tiles", type=int, default=STASH_TILES, help="Tiles per synthetic sprite (81 = 9x9)."
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
        self.emit(
            bench="identify_image",
            **identify_image_timing(image_bytes, repeats=options["repeats"] * 4),
        )
        sprite, vtt = stash_sprite_from_tiles(
            sprite_tiles_of(options["sprite"].read_bytes(), options["vtt"].read_text()),
            options["tiles"],
        )
        self.emit(
            bench="identify_scene",
            tiles=options["tiles"],
            **identify_scene_timing(sprite, vtt, repeats=options["repeats"]),
        )
