"""`manage.py bench_scan [--sprite S --vtt V] [--repeat N]`: seconds per scene, as a scan sees it.

Without --sprite it builds an 81-tile (9x9, 160x90) Stash-style sprite from the real tiles of
the shared dev sprites, the size Stash generates for every scene. With an index built, the
whole identification is timed (decode, detect + embed, search, clustering); without one, only
detection and embedding, which is nearly all of the time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.benchmarks.identify import scan_scene_timing
from recognition.benchmarks.sprites import shared_dev_tiles, stash_sprite_from_tiles
from stashsense.errors import ApplicationError

SHARED_SPRITES = Path(settings.BASE_DIR).parent / "shared" / "faces" / "sprites"


class Command(BaseCommand):
    help = "Time the identification of one Stash scene (an 81-tile sprite) on this machine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sprite", type=Path, default=None)
        parser.add_argument("--vtt", type=Path, default=None)
        parser.add_argument("--repeat", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["sprite"]) != bool(options["vtt"]):
            raise CommandError("--sprite and --vtt go together.")
        try:
            sprite, vtt = self._scene(options["sprite"], options["vtt"])
            result = scan_scene_timing(sprite, vtt, repeat=options["repeat"])
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(json.dumps(result))

    @staticmethod
    def _scene(sprite: Path | None, vtt: Path | None) -> tuple[bytes, str]:
        if sprite is not None and vtt is not None:
            return sprite.read_bytes(), vtt.read_text()
        tiles = shared_dev_tiles(SHARED_SPRITES)
        if not tiles:
            raise CommandError(f"No sprites under {SHARED_SPRITES}: pass --sprite and --vtt.")
        return stash_sprite_from_tiles(tiles)
