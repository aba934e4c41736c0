from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recognition.configured_profile import profile_for, serving_profile, serving_profile_forget
from recognition.reembedding import faces_reembed, faces_to_reembed
from recognition.services import index_build
from stashsense.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Move the gallery to another face profile: embed every active face again (from its "
        "photo when on disk, else from its kept crop), build that profile's index beside the "
        "old one and switch to it when complete. Resumable: run it again after a stop."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--profile", required=True, help="The profile to move to.")
        parser.add_argument(
            "--from-profile", default=None, help="The profile to read (default: the serving one)."
        )
        parser.add_argument("--limit", type=int, default=None, help="Embed at most N faces now.")
        parser.add_argument(
            "--no-index", action="store_true", help="Embed only; build and switch later."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target, source = options["profile"], options["from_profile"] or serving_profile()
        if target == source:
            raise CommandError(f"The gallery is already of profile {target!r}.")
        try:
            profile_for(target)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        total = faces_to_reembed(from_profile=source, to_profile=target).count()
        if options["limit"] is not None:
            total = min(total, options["limit"])
        with tqdm(total=total, unit="face", disable=not self.stdout.isatty()) as bar:
            counts = faces_reembed(
                from_profile=source, to_profile=target, limit=options["limit"], progress=bar.update
            )
        # A whole run has tried every face (those without a usable face stay behind); a limited
        # one leaves the rest for the next run.
        left = (
            0
            if options["limit"] is None
            else faces_to_reembed(from_profile=source, to_profile=target).count() - counts.skipped
        )
        self.stdout.write(
            f"{counts.done} faces embedded by {target} ({counts.from_photo} from their photo, "
            f"{counts.from_crop} from their kept crop), {counts.skipped} without a usable face, "
            f"{max(0, left)} left"
        )
        if options["no_index"] or left > 0:
            self.stdout.write("The index was not switched: run reembed again to finish.")
            return
        build = index_build(profile=target)
        serving_profile_forget()
        self.stdout.write(
            f"index #{build.pk} of {target} is active: {build.faces} faces; serving {serving_profile()}"
        )
