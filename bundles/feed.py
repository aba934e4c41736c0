"""The bundle feed: a JSON file that lists a publisher's bundles, and which of them to apply.

A publisher writes it beside the bundles (`export_bundle OUT --feed`); a consumer reads it from
`STASHSENSE_BUNDLE_FEED` and applies the bundles that lead from its installed version to the
newest. The format (`format_version` 1):

    {
      "format": "stashsense-bundle-feed",
      "format_version": 1,
      "updated_at": "2026-12-04T22:50:00+00:00",
      "bundles": [
        {
          "version": "20261204T225000Z-000007",   # a bundle version (sorts by time)
          "kind": "full" | "delta",
          "base_version": "" | "<version a delta continues>",
          "url": "stashsense-scrfd-dlib-….zip",    # relative to the feed's URL, or absolute
          "sha256": "<hex of the whole bundle file>",
          "size": 12345,                            # bytes
          "created_at": "2026-12-04T22:50:00+00:00",
          "profile": {"name", "dim", "metric", "preprocessing", "model_hashes"},
          "counts": {"performers": …, "faces": …, …}
        }, …
      ]
    }

Nothing here touches the database or the network.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from bundles.format import KIND_DELTA, KIND_FULL
from stashsense.errors import ApplicationError, UpstreamFailed

FEED_FORMAT = "stashsense-bundle-feed"
FEED_FORMAT_VERSION = 1
FEED_NAME = "feed.json"
# A feed lists bundles, not their contents: a few MB would be thousands of entries.
FEED_MAX_BYTES = 4 * 1024 * 1024


class FeedInvalid(UpstreamFailed):
    """The feed could not be read as a bundle feed."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Bundle feed: {message}", code="bundle_feed_invalid")


@dataclass(frozen=True)
class FeedEntry:
    """One bundle the feed offers."""

    version: str
    kind: str
    url: str
    sha256: str
    size: int
    profile: dict[str, Any]
    base_version: str = ""
    created_at: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def is_delta(self) -> bool:
        return self.kind == KIND_DELTA


@dataclass(frozen=True)
class Feed:
    entries: list[FeedEntry]
    updated_at: str = ""

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FEED_FORMAT,
                "format_version": FEED_FORMAT_VERSION,
                "updated_at": self.updated_at,
                "bundles": [asdict(entry) for entry in self.entries],
            },
            indent=2,
            sort_keys=True,
        ).encode()


def feed_parse(data: bytes) -> Feed:
    """A feed from its JSON; anything malformed is a FeedInvalid naming what."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise FeedInvalid("not JSON") from error
    if not isinstance(raw, dict) or raw.get("format") != FEED_FORMAT:
        raise FeedInvalid(f"not a {FEED_FORMAT} document")
    if raw.get("format_version") != FEED_FORMAT_VERSION:
        raise FeedInvalid(
            f"format version {raw.get('format_version')!r} is not supported "
            f"(this version reads {FEED_FORMAT_VERSION}); upgrade Stash Sense"
        )
    bundles = raw.get("bundles")
    if not isinstance(bundles, list):
        raise FeedInvalid("'bundles' is not a list")
    return Feed(
        entries=[_entry(item, n) for n, item in enumerate(bundles)],
        updated_at=str(raw.get("updated_at") or ""),
    )


def _entry(item: Any, n: int) -> FeedEntry:
    if not isinstance(item, dict):
        raise FeedInvalid(f"bundle {n} is not an object")
    texts = {key: item.get(key) for key in ("version", "kind", "url", "sha256")}
    missing = [key for key, value in texts.items() if not isinstance(value, str) or not value]
    if missing:
        raise FeedInvalid(f"bundle {n} has no {', '.join(missing)}")
    if item["kind"] not in (KIND_FULL, KIND_DELTA):
        raise FeedInvalid(f"bundle {item['version']} has an unknown kind {item['kind']!r}")
    base = item.get("base_version") or ""
    if item["kind"] == KIND_DELTA and not (isinstance(base, str) and base):
        raise FeedInvalid(f"delta bundle {item['version']} has no base_version")
    sha256 = str(item["sha256"]).lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise FeedInvalid(f"bundle {item['version']} has a malformed sha256")
    size, profile = item.get("size"), item.get("profile")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise FeedInvalid(f"bundle {item['version']} has no size")
    if not isinstance(profile, dict) or not isinstance(profile.get("name"), str):
        raise FeedInvalid(f"bundle {item['version']} names no profile")
    counts = item.get("counts")
    return FeedEntry(
        version=item["version"],
        kind=item["kind"],
        url=item["url"],
        sha256=sha256,
        size=size,
        profile=profile,
        base_version=base if item["kind"] == KIND_DELTA else "",
        created_at=str(item.get("created_at") or ""),
        counts=counts if isinstance(counts, dict) else {},
    )


def feed_entry_url(feed_url: str, entry: FeedEntry) -> str:
    """Where a bundle is: its `url` read relative to the feed's own URL."""
    return urljoin(feed_url, entry.url)


def feed_plan(feed: Feed, *, profile: str, installed: str | None) -> list[FeedEntry]:
    """The bundles to apply, in order, to go from `installed` to the newest this feed offers.

    From an installed version: the chain of deltas that continues it. With nothing installed,
    or when no delta continues it but a newer full bundle exists: the newest full bundle, then
    the deltas that continue that. Empty when the installed version is the newest.
    """
    entries = [entry for entry in feed.entries if entry.profile.get("name") == profile]
    if installed is not None:
        chain = _chain_from(installed, entries)
        if chain:
            return chain
    fulls = [entry for entry in entries if not entry.is_delta]
    if not fulls:
        return []
    newest_full = max(fulls, key=lambda entry: entry.version)
    if installed is not None and newest_full.version <= installed:
        return []
    return [newest_full, *_chain_from(newest_full.version, entries)]


def _chain_from(version: str, entries: list[FeedEntry]) -> list[FeedEntry]:
    """Deltas that continue `version`, each the newest that continues the one before."""
    chain: list[FeedEntry] = []
    seen = {version}
    while True:
        following = [e for e in entries if e.is_delta and e.base_version == version]
        if not following:
            return chain
        step = max(following, key=lambda entry: entry.version)
        if step.version in seen:  # a feed that loops: stop rather than apply forever
            return chain
        chain.append(step)
        seen.add(step.version)
        version = step.version


def feed_newest(feed: Feed, *, profile: str) -> FeedEntry | None:
    """The newest bundle of a profile in the feed."""
    entries = [entry for entry in feed.entries if entry.profile.get("name") == profile]
    return max(entries, key=lambda entry: entry.version, default=None)


def feed_file_add(feed_path: Path, entry: FeedEntry, *, now: datetime) -> Feed:
    """Add (or replace, by version) one bundle in the feed file at `feed_path`, atomically."""
    feed = feed_parse(feed_path.read_bytes()) if feed_path.exists() else Feed(entries=[])
    entries = [existing for existing in feed.entries if existing.version != entry.version]
    entries.append(entry)
    entries.sort(key=lambda existing: existing.version)
    updated = Feed(entries=entries, updated_at=now.isoformat())
    feed_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=feed_path.parent, prefix=".feed-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(updated.to_json())
        os.chmod(temporary, 0o644)
        os.replace(temporary, feed_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return updated


def feed_relative_url(feed_path: Path, bundle_path: Path) -> str:
    """The bundle's URL relative to the feed, which must sit in the same folder or above it."""
    try:
        relative = bundle_path.resolve().relative_to(feed_path.resolve().parent)
    except ValueError as error:
        raise ApplicationError(
            f"The bundle {bundle_path} is not in the feed's folder {feed_path.parent}: "
            "publish them together so the feed can point at the bundle.",
            code="bundle_feed_outside",
        ) from error
    return relative.as_posix()
