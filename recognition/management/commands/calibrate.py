from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.configured_profile import profile_for
from recognition.evaluation import fit_calibration
from recognition.services import index_calibration_set
from stashsense.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Fit the confidence calibration on a labelled folder (identities with one photo are "
        "outsiders) for a target false-accept rate, and store it with the active index."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--target-far", type=float, default=0.01)
        parser.add_argument("--profile", default=None)
        parser.add_argument("--dry-run", action="store_true", help="Fit and print; store nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["directory"].is_dir():
            raise CommandError(f"{options['directory']} is not a directory")
        if not 0 < options["target_far"] < 1:
            raise CommandError("--target-far must be between 0 and 1")
        profile = profile_for(options["profile"])
        calibrator = fit_calibration(
            profile, options["directory"], target_far=options["target_far"]
        )
        data = calibrator.to_dict()
        self.stdout.write(
            f"threshold {data['threshold']:.4f} for FAR {options['target_far']}: {data.get('stats', {})}"
        )
        if options["dry_run"]:
            return
        try:
            build = index_calibration_set(profile=profile.name, calibration=data)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"calibration stored with index #{build.pk}")
