"""`manage.py import_stash_config`: the stash-box endpoints and keys configured in Stash."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scraping.services import sources_import_from_stash
from stashsense.errors import ApplicationError
from stashsense.http import AuthError, OutboundError


class Command(BaseCommand):
    help = (
        "Create or update a source for every stash-box endpoint configured in Stash "
        "(STASH_URL, STASH_API_KEY)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--stash-url", default=None, help="Default: STASH_URL.")

    def handle(self, *args: Any, **options: Any) -> None:
        stash_url = options["stash_url"] or settings.STASH_URL
        if not stash_url:
            raise CommandError("Set STASH_URL (or pass --stash-url) to read Stash's settings.")
        try:
            imported = sources_import_from_stash(
                stash_url=stash_url, api_key=settings.STASH_API_KEY
            )
        except AuthError as error:
            raise CommandError(f"Stash refused the API key (STASH_API_KEY): {error}") from error
        except (OutboundError, ApplicationError) as error:
            raise CommandError(f"Could not read Stash's stash-box settings: {error}") from error
        for source, created in imported:
            self.stdout.write(
                f"{'added' if created else 'updated'} {source.name}: {source.url}"
                f"{'' if source.has_api_key else ' (no API key)'}"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(imported)} stash-box endpoints from {stash_url}.")
        )
