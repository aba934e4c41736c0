"""Publishing: an export added to the feed file that sits beside the published bundles."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from bundles.feed import FEED_NAME, Feed, FeedEntry, feed_file_add, feed_relative_url
from bundles.format import PROFILE_KEYS
from bundles.models import BundleExport
from bundles.reader import BundleReader


def bundle_feed_publish(*, export: BundleExport, feed_path: Path | None = None) -> Feed:
    """Add a finished export to `feed_path` (default: feed.json beside the bundle)."""
    bundle = Path(export.path)
    target = feed_path or bundle.parent / FEED_NAME
    with BundleReader(bundle) as reader:
        profile = {key: reader.manifest.profile[key] for key in PROFILE_KEYS}
    entry = FeedEntry(
        version=export.version,
        kind=export.kind,
        base_version=export.base_version,
        url=feed_relative_url(target, bundle),
        sha256=export.sha256,
        size=bundle.stat().st_size,
        created_at=export.created_at.isoformat(),
        profile=profile,
        counts={key: int(value) for key, value in export.counts.items()},
    )
    return feed_file_add(target, entry, now=timezone.now())
