from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.identification import identify_image, identify_scene
from stashsense.errors import ApplicationError


class Command(BaseCommand):
    help = "Identify the performers in an image, or in a sprite sheet with --vtt."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--vtt", type=Path, default=None, help="The sprite's VTT: identify a scene."
        )
        parser.add_argument("--top-k", type=int, default=3)
        parser.add_argument("--threshold", type=float, default=None)
        parser.add_argument(
            "--json", action="store_true", help="Print the REST API's response body."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        try:
            if options["vtt"]:
                body = identify_scene(
                    sprite=path.read_bytes(),
                    vtt=options["vtt"].read_text(),
                    top_k=options["top_k"],
                    threshold=options["threshold"],
                )
            else:
                body = identify_image(
                    data=path.read_bytes(), top_k=options["top_k"], threshold=options["threshold"]
                )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if options["json"]:
            self.stdout.write(json.dumps(body))
            return
        self._print_human(body)

    def _print_human(self, body: dict[str, Any]) -> None:
        rows = body.get("persons", body.get("faces", []))
        for number, row in enumerate(rows):
            where = row.get("box") or f"{row.get('appearances')} frames"
            names = (
                ", ".join(
                    f"{m['performer']['name']} ({m['confidence']:.0%})" for m in row["matches"]
                )
                or "unknown"
            )
            self.stdout.write(f"{number}: {where}: {names}")
        self.stdout.write(f"{len(rows)} found in {body['timings_ms']['total']:.0f} ms")
