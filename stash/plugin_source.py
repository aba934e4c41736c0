"""The plugin source this service publishes: the current plugin package and its release date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stash.models import PluginRelease
from stash.plugin_package import PluginPackage, plugin_package


@dataclass(frozen=True)
class PublishedPlugin:
    package: PluginPackage
    published_at: datetime


def plugin_source_service_url(request_root: str) -> str:
    """The address written into the plugin: STASHSENSE_PUBLIC_URL, else the one Stash used."""
    return str(settings.STASHSENSE_PUBLIC_URL or request_root)


def plugin_published(*, service_url: str) -> PublishedPlugin:
    """The plugin package for `service_url` and the date of its release (see PluginRelease)."""
    package = plugin_package(service_url)
    release = plugin_release_note(sha256=package.sha256, version=package.version)
    return PublishedPlugin(package=package, published_at=release.published_at)


@transaction.atomic
def plugin_release_note(*, sha256: str, version: str) -> PluginRelease:
    """The release of this zip; a zip unlike the latest release gets a date after all others."""
    # One writer at a time decides what is newest (Postgres row lock; SQLite locks the file).
    latest = PluginRelease.objects.select_for_update().order_by("-published_at").first()
    if latest is not None and latest.sha256 == sha256:
        return latest
    now = timezone.now().replace(microsecond=0)  # Stash's dates have whole seconds
    if latest is not None and now <= latest.published_at:
        now = latest.published_at + timedelta(seconds=1)
    release, _ = PluginRelease.objects.update_or_create(
        sha256=sha256, defaults={"version": version, "published_at": now}
    )
    return release
