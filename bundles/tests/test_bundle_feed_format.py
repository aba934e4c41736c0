"""The feed file: parsing refuses what is not a feed, and the plan picks the right bundles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bundles.feed import (
    FEED_FORMAT,
    Feed,
    FeedEntry,
    FeedInvalid,
    feed_entry_url,
    feed_file_add,
    feed_parse,
    feed_plan,
    feed_relative_url,
)
from stashsense.errors import ApplicationError

PROFILE = {"name": "scrfd-dlib", "dim": 128}


def _entry(version: str, base: str = "", profile: str = "scrfd-dlib") -> FeedEntry:
    return FeedEntry(
        version=version,
        kind="delta" if base else "full",
        base_version=base,
        url=f"{version}.zip",
        sha256="a" * 64,
        size=10,
        profile={**PROFILE, "name": profile},
    )


def _versions(entries: list[FeedEntry]) -> list[str]:
    return [entry.version for entry in entries]


FEED = Feed(
    entries=[
        _entry("v1"),
        _entry("v2", base="v1"),
        _entry("v3", base="v2"),
        _entry("v4"),
        _entry("v5", base="v4"),
        _entry("v9", profile="buffalo_l"),
    ]
)


@pytest.mark.parametrize(
    ("installed", "plan"),
    [
        ("v1", ["v2", "v3"]),  # the deltas since the installed version
        ("v2", ["v3"]),
        ("v3", ["v4", "v5"]),  # no delta continues v3, a newer full bundle does
        (None, ["v4", "v5"]),  # nothing installed: the newest full bundle, then its deltas
        ("v5", []),  # up to date
        ("v7", []),  # newer than the feed (a publisher's own server): nothing to do
    ],
)
def test_the_plan_leads_from_the_installed_version_to_the_newest(
    installed: str | None, plan: list[str]
) -> None:
    assert _versions(feed_plan(FEED, profile="scrfd-dlib", installed=installed)) == plan


def test_bundles_of_another_profile_are_never_planned() -> None:
    assert _versions(feed_plan(FEED, profile="buffalo_l", installed=None)) == ["v9"]
    assert feed_plan(FEED, profile="scrfd-mobilefacenet", installed=None) == []


def test_a_feed_whose_deltas_loop_stops_instead_of_applying_forever() -> None:
    looping = Feed(entries=[_entry("v1"), _entry("v2", base="v1"), _entry("v1", base="v2")])
    assert _versions(feed_plan(looping, profile="scrfd-dlib", installed="v1")) == ["v2"]


def _raw(**changes: Any) -> dict[str, Any]:
    bundle = {
        "version": "v1",
        "kind": "full",
        "url": "b.zip",
        "sha256": "b" * 64,
        "size": 5,
        "profile": PROFILE,
    }
    return {"format": FEED_FORMAT, "format_version": 1, "bundles": [{**bundle, **changes}]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<html>", "not JSON"),
        (json.dumps({"format": "other"}).encode(), "not a stashsense-bundle-feed"),
        (json.dumps({**_raw(), "format_version": 2}).encode(), "format version 2"),
        (json.dumps({**_raw(), "bundles": {}}).encode(), "not a list"),
        (json.dumps(_raw(sha256="xyz")).encode(), "malformed sha256"),
        (json.dumps(_raw(kind="delta")).encode(), "no base_version"),
        (json.dumps(_raw(kind="partial")).encode(), "unknown kind"),
        (json.dumps(_raw(size=0)).encode(), "no size"),
        (json.dumps(_raw(profile="scrfd")).encode(), "names no profile"),
        (json.dumps(_raw(url="")).encode(), "has no url"),
    ],
)
def test_what_is_not_a_feed_is_refused_with_the_reason(document: bytes, message: str) -> None:
    with pytest.raises(FeedInvalid, match=message) as caught:
        feed_parse(document)
    assert caught.value.code == "bundle_feed_invalid"


def test_bundle_urls_are_read_relative_to_the_feed() -> None:
    feed = "https://example.org/galleries/feed.json"
    assert feed_entry_url(feed, _entry("v1")) == "https://example.org/galleries/v1.zip"
    absolute = FeedEntry(**{**_entry("v1").__dict__, "url": "https://cdn.example.org/v1.zip"})
    assert feed_entry_url(feed, absolute) == "https://cdn.example.org/v1.zip"


def test_the_feed_file_keeps_every_bundle_once_in_version_order(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    now = datetime(2026, 12, 4, tzinfo=UTC)
    feed_file_add(path, _entry("v2", base="v1"), now=now)
    feed_file_add(path, _entry("v1"), now=now)
    feed_file_add(path, _entry("v2", base="v1"), now=now)

    feed = feed_parse(path.read_bytes())
    assert _versions(feed.entries) == ["v1", "v2"] and feed.updated_at == now.isoformat()
    assert not list(tmp_path.glob(".feed-*"))


def test_a_bundle_outside_the_feeds_folder_cannot_be_listed(tmp_path: Path) -> None:
    assert feed_relative_url(tmp_path / "feed.json", tmp_path / "sub" / "b.zip") == "sub/b.zip"
    with pytest.raises(ApplicationError, match="not in the feed's folder"):
        feed_relative_url(tmp_path / "pub" / "feed.json", tmp_path / "b.zip")
