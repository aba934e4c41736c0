from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.engine.fetch import ModelFetchError, fetch_models


class Command(BaseCommand):
    help = "Download the default face models (SCRFD from PyPI; dlib's come with their package)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models-dir", default=str(settings.MODELS_DIR))

    def handle(self, *args: Any, **options: Any) -> None:
        from pathlib import Path

        try:
            paths = fetch_models(Path(options["models_dir"]))
        except ModelFetchError as error:
            raise CommandError(str(error)) from error
        for path in paths:
            self.stdout.write(f"model ready: {path}")
