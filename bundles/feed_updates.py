"""Gallery updates from a bundle feed (`STASHSENSE_BUNDLE_FEED`): check, download, apply.

Only the feed's host (and `STASHSENSE_BUNDLE_FEED_HOSTS`) may be fetched from, through the
outbound client. An update downloads every bundle the feed's plan names (resuming partial
files) and checks each file's size and sha256 against the feed before anything is applied;
then it applies them in order inside one transaction, so the gallery moves from the installed
version to the newest in one step, or, on any failure (a member's checksum, a profile that does
not match, a gap, a crash), stays exactly as it was. Each bundle still goes through
`bundle_import`, with all its checks.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bundles.download import BundleDownloadClient, bundle_download
from bundles.feed import (
    FEED_MAX_BYTES,
    Feed,
    FeedEntry,
    feed_entry_url,
    feed_newest,
    feed_parse,
    feed_plan,
)
from bundles.format import file_sha256
from bundles.importer import bundle_import, bundle_last_applied
from bundles.models import BundleFeedState, BundleImport
from recognition.configured_profile import serving_profile
from stashsense.errors import Conflict, InvalidInput, UpstreamFailed
from stashsense.http import OutboundClient, OutboundError, display_url, host_of

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, Any], None]


class FeedBundleMismatch(UpstreamFailed):
    """A downloaded bundle is not the file the feed describes (cut short, changed, corrupt)."""


@dataclass(frozen=True)
class FeedStatus:
    """What /health and the dashboard say about gallery updates."""

    installed: str | None
    available: str | None
    update_available: bool
    checked_at: datetime | None
    check_error: str
    update_error: str
    update_finished_at: datetime | None


@dataclass(frozen=True)
class FeedUpdate:
    applied: list[BundleImport]
    installed: str | None


def bundle_feed_url() -> str:
    return str(settings.STASHSENSE_BUNDLE_FEED or "")


def bundle_feed_client(feed_url: str) -> OutboundClient:
    """The outbound client for a feed: only its host and the configured extra hosts."""
    hosts = {host_of(feed_url), *settings.STASHSENSE_BUNDLE_FEED_HOSTS}
    return BundleDownloadClient(allowed_hosts={host for host in hosts if host})


def _feed_url_required(feed_url: str | None) -> str:
    url = feed_url or bundle_feed_url()
    if not url:
        raise InvalidInput(
            "No bundle feed is configured: set STASHSENSE_BUNDLE_FEED to the feed's URL.",
            code="bundle_feed_unset",
        )
    return url


def bundle_feed_fetch(*, feed_url: str, client: OutboundClient) -> Feed:
    response = client.get(feed_url, max_bytes=FEED_MAX_BYTES)
    return feed_parse(response.content)


def _installed(profile: str) -> str | None:
    last = bundle_last_applied(profile=profile)
    return last.version if last else None


def _state_checked(feed_url: str, profile: str, feed: Feed, plan: list[FeedEntry]) -> None:
    newest = feed_newest(feed, profile=profile)
    BundleFeedState.objects.update_or_create(
        feed_url=feed_url,
        profile=profile,
        defaults={
            "checked_at": timezone.now(),
            "newest_version": newest.version if newest else "",
            "target_version": plan[-1].version if plan else "",
            "pending": [entry.version for entry in plan],
            "check_error": "",
        },
    )


def _state_failed(feed_url: str, profile: str, **fields: Any) -> None:
    BundleFeedState.objects.update_or_create(feed_url=feed_url, profile=profile, defaults=fields)


def bundle_feed_check(
    *, feed_url: str | None = None, profile: str | None = None, client: OutboundClient | None = None
) -> list[FeedEntry]:
    """Read the feed and record what it offers; returns the bundles an update would apply."""
    url, name = _feed_url_required(feed_url), profile or serving_profile()
    if client is not None:
        return _plan_recorded(url, name, client)
    with bundle_feed_client(url) as reader:
        return _plan_recorded(url, name, reader)


def _plan_recorded(feed_url: str, profile: str, client: OutboundClient) -> list[FeedEntry]:
    try:
        feed = bundle_feed_fetch(feed_url=feed_url, client=client)
    except (OutboundError, UpstreamFailed) as error:
        _state_failed(feed_url, profile, checked_at=timezone.now(), check_error=str(error)[:2000])
        raise
    plan = feed_plan(feed, profile=profile, installed=_installed(profile))
    _state_checked(feed_url, profile, feed, plan)
    return plan


def bundle_feed_update(
    *,
    feed_url: str | None = None,
    profile: str | None = None,
    download_dir: Path | None = None,
    progress: Progress | None = None,
    client: OutboundClient | None = None,
) -> FeedUpdate:
    """Apply the feed's bundles from the installed version to the newest, all or nothing."""
    url, name = _feed_url_required(feed_url), profile or serving_profile()
    directory = download_dir or Path(settings.DATA_DIR) / "bundles" / "feed"
    with _update_lock(name):
        return _update_locked(url, name, directory, progress, client)


@contextmanager
def _update_lock(profile: str) -> Iterator[None]:
    """One feed update of a profile at a time: two would plan from the same version and the
    second would only fail. A Postgres session lock, so a killed worker's lock goes with its
    connection; SQLite has one writer anyway."""
    if connection.vendor != "postgresql":
        yield
        return
    key = zlib.crc32(f"bundles.feed_update:{profile}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (taken,) = cursor.fetchone() or (False,)
    if not taken:
        raise Conflict(
            "A gallery update from the feed is already running.", code="bundle_feed_busy"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _update_locked(
    url: str,
    name: str,
    directory: Path,
    progress: Progress | None,
    client: OutboundClient | None,
) -> FeedUpdate:
    downloader = client or bundle_feed_client(url)
    try:
        plan = _plan_recorded(url, name, downloader)
        paths = [_download_verified(downloader, url, entry, directory, progress) for entry in plan]
        applied = _apply_all(plan, paths, url, name, progress)
    except BaseException as error:
        _state_failed(
            url, name, update_finished_at=timezone.now(), update_error=_message(error)[:2000]
        )
        raise
    finally:
        if client is None:
            downloader.close()
    installed = _installed(name)
    _state_failed(
        url,
        name,
        update_finished_at=timezone.now(),
        update_error="",
        pending=[],
        target_version="",
    )
    return FeedUpdate(applied=applied, installed=installed)


def _message(error: BaseException) -> str:
    return str(getattr(error, "message", None) or error or type(error).__name__)


def _download_verified(
    client: OutboundClient,
    feed_url: str,
    entry: FeedEntry,
    directory: Path,
    progress: Progress | None,
) -> Path:
    """The bundle file, downloaded unless an earlier run left it whole; refused if unlike the
    feed's size and sha256 (and deleted, so the next run fetches it again)."""
    url = feed_entry_url(feed_url, entry)
    path = bundle_download(
        url=url,
        directory=directory,
        client=client,
        progress=(lambda done, total: progress("download", done, total)) if progress else None,
    )
    with path.open("rb") as stream:
        sha256, size = file_sha256(stream)
    if (sha256, size) != (entry.sha256, entry.size):
        path.unlink(missing_ok=True)
        raise FeedBundleMismatch(
            f"Bundle {entry.version} from {display_url(url)} is not the file the feed lists "
            f"({size} bytes, sha256 {sha256[:12]}…; the feed says {entry.size} bytes, "
            f"{entry.sha256[:12]}…). Nothing was applied; the next update downloads it again.",
            code="bundle_feed_mismatch",
        )
    return path


def _apply_all(
    plan: list[FeedEntry], paths: list[Path], feed_url: str, profile: str, progress: Any
) -> list[BundleImport]:
    """Every bundle imported in one transaction; on failure nothing stays, new files neither."""
    applied: list[BundleImport] = []
    index_files: list[Path] = []
    try:
        with transaction.atomic():
            for entry, path in zip(plan, paths, strict=True):
                record = bundle_import(
                    path=path,
                    profile=profile,
                    origin=feed_entry_url(feed_url, entry),
                    progress=progress,
                )
                applied.append(record)
                if record.index_build is not None:
                    index_files.append(Path(record.index_build.path))
    except BaseException:
        # The builds these imports made were rolled back: their index files name nothing.
        for index_file in index_files:
            index_file.unlink(missing_ok=True)
        raise
    for record in applied:
        logger.info("Feed update applied %s bundle %s", record.kind, record.version)
    return applied


def bundle_feed_status(*, profile: str | None = None) -> FeedStatus | None:
    """Gallery updates as last checked; None when no feed is configured."""
    url = bundle_feed_url()
    if not url:
        return None
    name = profile or serving_profile()
    installed = _installed(name)
    state = BundleFeedState.objects.filter(feed_url=url, profile=name).first()
    target = state.target_version if state else ""
    return FeedStatus(
        installed=installed,
        available=(state.newest_version or None) if state else None,
        update_available=bool(target) and (installed is None or target > installed),
        checked_at=state.checked_at if state else None,
        check_error=state.check_error if state else "",
        update_error=state.update_error if state else "",
        update_finished_at=state.update_finished_at if state else None,
    )
