"""`manage.py bench_scene [--frames 60] [--old-frames 12] [--sizes 1080p,720p]`: a scene's video
read, detected, embedded and clustered, stage by stage, against the replaced system's way.
See recognition/benchmarks/scene_video_bench.py."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.benchmarks.scene_video_bench import bench_scene_video
from recognition.benchmarks.scene_videos import SceneVideoSpec
from recognition.configured_profile import profile_for
from stashsense.errors import ApplicationError

SIZES = {"1080p": (1920, 1080, 160), "720p": (1280, 720, 110), "2160p": (3840, 2160, 320)}


class Command(BaseCommand):
    help = "Time identification from a video (made from ../shared photos) stage by stage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--frames", type=int, default=60)
        parser.add_argument("--old-frames", type=int, default=12, help="0: skip the old way")
        parser.add_argument("--sizes", default="1080p,720p")
        # A long scene at a low frame rate: 60 samples then lie further apart than its
        # keyframes, as in real 20-40 minute scenes, at a fraction of the encoding time.
        parser.add_argument("--seconds", type=float, default=600.0)
        parser.add_argument("--fps", type=int, default=1)
        parser.add_argument("--gop", type=int, default=8, help="frames between keyframes")

    def handle(self, *args: Any, **options: Any) -> None:
        faces = Path(settings.BASE_DIR).parent / "shared" / "faces"
        if not faces.is_dir():
            raise CommandError(f"No photos at {faces}.")
        try:
            profile = profile_for()
        except ApplicationError as error:
            raise CommandError(error.message) from error
        for label in options["sizes"].split(","):
            if label not in SIZES:
                raise CommandError(f"Unknown size {label!r}: one of {', '.join(SIZES)}.")
            width, height, face = SIZES[label]
            spec = SceneVideoSpec(
                width,
                height,
                seconds=options["seconds"],
                fps=options["fps"],
                face_height=face,
                gop=options["gop"],
            )
            result = bench_scene_video(
                profile,
                faces,
                spec=spec,
                frames=options["frames"],
                old_frames=options["old_frames"],
                label=label,
            )
            result["load_average"] = [round(value, 2) for value in os.getloadavg()]
            self.stdout.write(json.dumps({label: result}))
