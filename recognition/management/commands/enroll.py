from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recognition.enrollment import labelled_photos
from recognition.services import index_update, performer_enroll


class Command(BaseCommand):
    help = "Enroll a folder of labelled photos (one folder per identity) as performers and faces."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--profile", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        root: Path = options["directory"]
        if not root.is_dir():
            raise CommandError(f"{root} is not a directory")
        identities = list(labelled_photos(root))
        if not identities:
            raise CommandError(f"No labelled photos under {root} (expected <identity>/<photo>.jpg)")
        performers = faces = skipped = duplicates = 0
        bar = tqdm(identities, unit="identity", disable=not self.stdout.isatty())
        for identity, photos in bar:
            bar.set_postfix_str(identity[:30])
            _, outcomes = performer_enroll(
                identity=identity, photos=photos, profile=options["profile"]
            )
            performers += 1
            faces += sum(len(o.faces) for o in outcomes)
            duplicates += sum(o.duplicate for o in outcomes)
            for photo, outcome in zip(photos, outcomes, strict=True):
                if outcome.skipped_reason:
                    skipped += 1
                    self.stderr.write(f"skipped {photo}: {outcome.skipped_reason}")
        self.stdout.write(
            f"enrolled {performers} performers: {faces} new faces, {duplicates} photos already known, {skipped} skipped"
        )
        build = index_update(profile=options["profile"])  # the first build, or the new faces
        if build is not None:
            self.stdout.write(f"index #{build.pk}: {build.faces} faces")
