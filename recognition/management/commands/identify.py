from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.api.serializers import (
    ImageIdentificationSerializer,
    SceneIdentificationSerializer,
)
from recognition.identification import (
    ImageIdentification,
    SceneIdentification,
    identify_image,
    identify_scene,
)
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
        for given in (path, options["vtt"]):
            if given is not None and not given.is_file():
                raise CommandError(f"{given} is not a file")
        try:
            result = self._identify(path, options)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read the input: {error}") from error
        if options["json"]:  # the API's own serializers, so the body is the API's
            serializer = (
                SceneIdentificationSerializer(result)
                if isinstance(result, SceneIdentification)
                else ImageIdentificationSerializer(result)
            )
            self.stdout.write(json.dumps(serializer.data))
            return
        self._print_human(result)

    def _identify(
        self, path: Path, options: dict[str, Any]
    ) -> ImageIdentification | SceneIdentification:
        if options["vtt"]:
            return identify_scene(
                sprite=path.read_bytes(),
                vtt=options["vtt"].read_text(),
                top_k=options["top_k"],
                threshold=options["threshold"],
            )
        return identify_image(
            data=path.read_bytes(), top_k=options["top_k"], threshold=options["threshold"]
        )

    def _print_human(self, result: ImageIdentification | SceneIdentification) -> None:
        rows: list[tuple[str, list[tuple[str, float]]]]
        if isinstance(result, SceneIdentification):
            rows = [
                (f"{p.appearances} frames", [(m.performer.name, m.confidence) for m in p.matches])
                for p in result.persons
            ]
        else:
            rows = [
                (str(f.box), [(m.performer.name, m.confidence) for m in f.matches])
                for f in result.faces
            ]
        for number, (where, matches) in enumerate(rows):
            names = ", ".join(f"{name} ({confidence:.0%})" for name, confidence in matches)
            self.stdout.write(f"{number}: {where}: {names or 'unknown'}")
        self.stdout.write(f"{len(rows)} found in {result.timings_ms['total']:.0f} ms")
