"""A bundle that is damaged, made for other models, or fails half-way changes nothing."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bundles.export import bundle_export
from bundles.importer import bundle_check, bundle_import
from bundles.models import BundleImport
from bundles.tests.test_bundle_support import (
    active_build_id,
    bundle_env,
    consumer_wipe,
    face_state,
    graph_state,
    probes,
    publish_gallery,
    rewrite_bundle,
    search_state,
)
from performers.services import performer_create
from recognition.models import IndexBuild
from stashsense.errors import ApplicationError

__all__ = ["bundle_env"]


@pytest.fixture
def serving(bundle_env: Path) -> tuple[Path, Callable[[], Any]]:
    """A consumer serving bundle B0; returns the newer full bundle B1 and a state snapshot."""
    publish_gallery(performers=4, faces_each=2)
    old = bundle_export(destination=bundle_env / "b0.zip")
    performer_create(name="Newcomer")
    new = bundle_export(destination=bundle_env / "b1.zip")
    consumer_wipe()
    bundle_import(path=Path(old.path))

    def state() -> Any:
        build = IndexBuild.objects.get(active=True)
        return (
            graph_state(),
            face_state(),
            search_state(probes(4)),
            build.pk,
            Path(build.path).read_bytes(),
            list(BundleImport.objects.values_list("version", "status")),
        )

    return Path(new.path), state


def _member_data_offset(path: Path, name: str) -> int:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    with path.open("rb") as handle:
        handle.seek(info.header_offset + 26)
        name_length = int.from_bytes(handle.read(2), "little")
        extra_length = int.from_bytes(handle.read(2), "little")
    return info.header_offset + 30 + name_length + extra_length


def _flipped(path: Path, offset: int, target: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize(
    "member",
    [
        "manifest.json",
        "performers.jsonl",
        "faces.jsonl",
        "embeddings.f32",
        "crops.bin",
        "index.bin",
    ],
)
def test_a_flipped_byte_in_any_member_is_refused_before_anything_changes(
    serving: tuple[Path, Callable[[], Any]], tmp_path: Path, member: str
) -> None:
    bundle, state = serving
    before = state()
    offset = _member_data_offset(bundle, member) + 7
    damaged = _flipped(bundle, offset, tmp_path / "damaged.zip")

    with pytest.raises(ApplicationError) as refusal:
        bundle_import(path=damaged)

    assert refusal.value.code == "bundle_corrupt"
    assert state() == before


def test_a_damaged_directory_or_a_truncated_file_is_refused(
    serving: tuple[Path, Callable[[], Any]], tmp_path: Path
) -> None:
    bundle, state = serving
    before = state()
    data = bundle.read_bytes()
    directory_name = data.rindex(b"index.bin")  # the central directory's copy of the name
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])

    for damaged in (_flipped(bundle, directory_name + 2, tmp_path / "dir.zip"), truncated):
        with pytest.raises(ApplicationError) as refusal:
            bundle_import(path=damaged)
        assert refusal.value.code == "bundle_corrupt"
    assert state() == before


def _with_manifest(bundle: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    change(manifest)
    rewrite_bundle(bundle, target, {"manifest.json": json.dumps(manifest).encode()})
    return target


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda m: m["profile"]["model_hashes"].update(recogniser="0" * 64), "model recogniser"),
        (lambda m: m["profile"]["preprocessing"].update(flip_average=False), "flip_average"),
        (lambda m: m["profile"].update(name="buffalo_l"), "'buffalo_l' gallery"),
        # A publisher still on the old default profile: refused, with how to serve it anyway.
        (lambda m: m["profile"].update(name="scrfd-dlib"), "STASHSENSE_PROFILE=scrfd-dlib"),
    ],
)
def test_a_bundle_made_with_other_models_is_refused_with_the_reason(
    serving: tuple[Path, Callable[[], Any]],
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    words: str,
) -> None:
    bundle, state = serving
    before = state()
    other = _with_manifest(bundle, tmp_path / "other.zip", change)

    with pytest.raises(ApplicationError) as refusal:
        bundle_import(path=other)
    with pytest.raises(ApplicationError):
        bundle_check(path=other)

    assert refusal.value.code == "bundle_profile_mismatch"
    assert words in refusal.value.message and "Nothing was imported" in refusal.value.message
    assert state() == before


def test_a_bundle_for_a_newer_app_is_refused(
    serving: tuple[Path, Callable[[], Any]], tmp_path: Path
) -> None:
    bundle, state = serving
    before = state()
    newer = _with_manifest(
        bundle, tmp_path / "newer.zip", lambda m: m.update(min_app_version="99.0")
    )

    with pytest.raises(ApplicationError) as refusal:
        bundle_import(path=newer)

    assert refusal.value.code == "bundle_unsupported"
    assert state() == before


def test_an_import_failing_half_way_rolls_back_and_the_old_gallery_keeps_serving(
    serving: tuple[Path, Callable[[], Any]], tmp_path: Path
) -> None:
    bundle, state = serving
    before = state()
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        lines = archive.read("faces.jsonl").splitlines()
    last = json.loads(lines[-1])
    last["performer"] = "not-a-uuid"  # applied after every performer and most faces
    faces = b"\n".join([*lines[:-1], json.dumps(last).encode()]) + b"\n"
    manifest["files"]["faces.jsonl"] = {
        "sha256": hashlib.sha256(faces).hexdigest(),
        "bytes": len(faces),
    }
    broken = tmp_path / "broken.zip"
    rewrite_bundle(
        bundle, broken, {"faces.jsonl": faces, "manifest.json": json.dumps(manifest).encode()}
    )

    with pytest.raises(ApplicationError) as failure:
        bundle_import(path=broken)

    assert failure.value.code == "bundle_corrupt"
    graph, faces_now, answers, build, index_bytes, imports = state()
    assert (graph, faces_now, answers, build, index_bytes) == before[:5]
    assert imports[0][1] == "failed" and imports[1:] == before[5]
    assert active_build_id() == build
