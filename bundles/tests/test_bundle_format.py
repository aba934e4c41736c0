"""The bundle file's pieces that need no database: manifest, versions, profile comparison."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bundles.download import download_name
from bundles.format import (
    FORMAT_VERSION,
    Manifest,
    canonical_json,
    profile_mismatches,
    record_digest,
    version_string,
)
from stashsense.errors import ApplicationError

PROFILE: dict[str, Any] = {
    "name": "scrfd-dlib",
    "dim": 128,
    "metric": "l2",
    "preprocessing": {"chip_size": 150, "flip_average": True},
    "model_hashes": {"detector": "a" * 64, "recogniser": "b" * 64},
}
FILES = {
    name: {"sha256": "0" * 64, "bytes": 0}
    for name in ("performers.jsonl", "faces.jsonl", "embeddings.f32", "crops.bin", "index.bin")
}


def _manifest(**changes: object) -> Manifest:
    fields: dict[str, object] = {
        "version": "20260101T000000Z-000001",
        "kind": "full",
        "profile": PROFILE,
        "created_at": "2026-01-01T00:00:00+00:00",
        "files": FILES,
    }
    fields.update(changes)
    return Manifest(**fields)  # type: ignore[arg-type]


def test_a_manifest_survives_its_own_json() -> None:
    manifest = _manifest(counts={"faces": 3}, sources=[{"name": "stashdb", "watermark": None}])

    assert Manifest.from_json(manifest.to_json()) == manifest


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"format": "something-else"}, "bundle_corrupt"),
        ({"format_version": FORMAT_VERSION + 1}, "bundle_unsupported"),
        ({"kind": "partial"}, "bundle_corrupt"),
        ({"kind": "delta"}, "bundle_corrupt"),  # a delta needs its base version
        ({"files": {"performers.jsonl": FILES["performers.jsonl"]}}, "bundle_corrupt"),
        ({"profile": {"name": "scrfd-dlib"}}, "bundle_corrupt"),
    ],
)
def test_a_manifest_that_does_not_hold_together_is_refused(
    change: dict[str, object], code: str
) -> None:
    raw = json.loads(_manifest().to_json())
    raw.update(change)

    with pytest.raises(ApplicationError) as refusal:
        Manifest.from_json(json.dumps(raw).encode())

    assert refusal.value.code == code


def test_profiles_agree_only_when_name_models_and_preprocessing_agree() -> None:
    other_model = {**PROFILE, "model_hashes": {**PROFILE["model_hashes"], "recogniser": "c" * 64}}
    no_flip = {**PROFILE, "preprocessing": {"chip_size": 150, "flip_average": False}}

    assert profile_mismatches(PROFILE, dict(PROFILE)) == []
    assert [p.split(" ")[1] for p in profile_mismatches(other_model, PROFILE)] == ["recogniser"]
    assert profile_mismatches(no_flip, PROFILE) == ["preprocessing flip_average False here is True"]
    assert profile_mismatches({**PROFILE, "dim": 512}, PROFILE) == ["dim 512 here is 128"]


def test_versions_sort_by_time_then_serial() -> None:
    early = version_string(9, datetime(2026, 1, 1, tzinfo=UTC))
    late = version_string(10, datetime(2026, 1, 2, tzinfo=UTC))

    assert early == "20260101T000000Z-000009" and early < late


def test_record_digests_ignore_key_order_but_not_values() -> None:
    assert record_digest({"a": 1, "b": [1, 2]}) == record_digest({"b": [1, 2], "a": 1})
    assert record_digest({"a": 1}) != record_digest({"a": 2})
    assert canonical_json({"é": 1}) == '{"é":1}'.encode()


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://host/bundles/stashsense-2026.zip?token=1", "stashsense-2026.zip"),
        ("https://host/", "bundle.zip"),
        ("https://host/a/..%2F..%2Fetc%2Fpasswd", "etc-passwd"),
    ],
)
def test_downloads_get_a_safe_local_name(url: str, name: str) -> None:
    assert download_name(url) == name
