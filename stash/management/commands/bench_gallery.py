"""`manage.py bench_gallery --folder F [--max-images N]`: a gallery of local photos, timed and
scored against the active index (see stash/benchmarks/gallery.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stash.benchmarks.gallery import gallery_benchmark, labelled_photos
from stashsense.errors import ApplicationError


class Command(BaseCommand):
    help = "Identify a folder of labelled photos as one gallery; prints times and precision (JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folder", type=Path, required=True, help="One folder per identity.")
        parser.add_argument("--max-images", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        if not folder.is_dir() or not labelled_photos(folder):
            raise CommandError(f"No photos in folders per identity under {folder}.")
        try:
            result = gallery_benchmark(folder, max_images=options["max_images"])
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(json.dumps(result))
