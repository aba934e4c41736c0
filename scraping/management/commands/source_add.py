"""`manage.py source_add NAME --kind stashbox|theporndb --url URL [--api-key K] [--rpm N]`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from performers.choices import SourceKind
from performers.services import source_upsert
from stashsense.errors import ApplicationError


class Command(BaseCommand):
    help = "Add a source (a stash-box endpoint or ThePornDB), or update the one with this name."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="Short name, e.g. stashdb.")
        parser.add_argument("--kind", required=True, choices=[k.value for k in SourceKind])
        parser.add_argument(
            "--url",
            required=True,
            help="stash-box GraphQL endpoint (https://stashdb.org/graphql) or ThePornDB's API.",
        )
        parser.add_argument("--api-key", default=None, help="Kept as is when left out.")
        parser.add_argument("--rpm", type=int, default=None, help="Requests per minute.")
        parser.add_argument("--disabled", action="store_true", help="Leave scheduled syncs off.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source, created = source_upsert(
                name=options["name"],
                kind=options["kind"],
                url=options["url"],
                api_key=options["api_key"],
                requests_per_minute=options["rpm"],
                enabled=False if options["disabled"] else None,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        key = "with an API key" if source.has_api_key else "without an API key"
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Added' if created else 'Updated'} source {source.name} ({source.kind}, "
                f"{source.url}, {key}, {source.requests_per_minute} requests/min)."
            )
        )
