"""`manage.py stash_plugin --out DIR [--service-url URL]`: the Stash plugin for this service."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from stash.plugin_files import (
    PLUGIN_ID,
    TEMPLATE_SERVICE_URL,
    plugin_service_url,
    render_plugin,
    service_origin,
)
from stashsense.errors import ApplicationError
from stashsense.hosts import host_allowed


def default_service_url() -> str:
    """STASHSENSE_PUBLIC_URL: the address browsers reach this service at."""
    return str(settings.STASHSENSE_PUBLIC_URL or "")


class Command(BaseCommand):
    help = (
        "Write the Stash UI plugin folder (stash-sense/) with this service's address filled in; "
        "point --out at Stash's plugins folder, then reload plugins in Stash."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", type=Path, required=True, help="Folder to write stash-sense/ into."
        )
        parser.add_argument(
            "--service-url",
            default=None,
            help="The address the browser reaches this service at, e.g. http://192.168.1.5:8000 "
            "(default: STASHSENSE_PUBLIC_URL).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out} is a file, not a folder.")
        url = options["service_url"] or default_service_url()
        if not url:
            url = TEMPLATE_SERVICE_URL
            self.stderr.write(
                f"No --service-url and no STASHSENSE_PUBLIC_URL: using {url}, which only works "
                "when Stash's browser runs on this machine."
            )
        try:
            normalised = plugin_service_url(url)
            written = render_plugin(out, normalised)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except OSError as error:
            raise CommandError(f"Could not write the plugin into {out}: {error}") from error
        host = urlsplit(normalised).netloc
        allowed = list(settings.STASHSENSE_ALLOWED_HOSTS)
        if not host_allowed(host, allowed):
            self.stderr.write(
                f"This server refuses requests for {host} (DJANGO_ALLOWED_HOSTS="
                f"{','.join(allowed)}): add it to DJANGO_ALLOWED_HOSTS, or every request the "
                "plugin sends gets 400."
            )
        origins = list(getattr(settings, "CORS_ALLOWED_ORIGINS", []))
        if not origins:
            self.stderr.write(
                "This service lets no browser origin call it: set STASH_URL (or "
                "STASHSENSE_CORS_ORIGINS) to Stash's address, or the plugin's requests fail."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {len(written)} files to {out / PLUGIN_ID} for {normalised} "
                f"(CSP connect-src {service_origin(normalised)}). In Stash: Settings → Plugins → "
                "Reload plugins, then set the plugin's API key."
            )
        )
