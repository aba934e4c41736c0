"""The bundle file: member names, the manifest, versions and checksums (no database here).

A bundle is one ZIP64 file. `manifest.json` comes first and names every other member with its
sha256 and size; JSON Lines members are deflated, binary members are stored:

    manifest.json        format and app versions, bundle version and base, profile, counts,
                         sources with their sync watermarks (never API keys), index metadata
    performers.jsonl     one identity per line: fields, stash IDs, aliases, URLs, body mods
    faces.jsonl          one face per line (metadata, `crop_bytes`), in ascending id order
    embeddings.f32       the faces' embeddings, float32 little-endian, row i = line i
    crops.bin            the faces' JPEG crops back to back, `crop_bytes` each, in line order
    deletions.jsonl      deltas only: {"kind": "performer", "id", "merged_into"} or
                         {"kind": "face", "id"}
    index.bin            full bundles only: the vector index over exactly the bundle's faces,
                         labelled by their ids
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import IO, Any

from stashsense.errors import ApplicationError

FORMAT_NAME = "stashsense-gallery-bundle"
FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = frozenset({1})
# The oldest Stash Sense that can apply bundles of this format.
MIN_APP_VERSION = "0.1.0"

MANIFEST = "manifest.json"
PERFORMERS = "performers.jsonl"
FACES = "faces.jsonl"
EMBEDDINGS = "embeddings.f32"
CROPS = "crops.bin"
DELETIONS = "deletions.jsonl"
INDEX = "index.bin"
FULL_MEMBERS = (PERFORMERS, FACES, EMBEDDINGS, CROPS, INDEX)
DELTA_MEMBERS = (PERFORMERS, FACES, EMBEDDINGS, CROPS, DELETIONS)
COMPRESSED_MEMBERS = frozenset({PERFORMERS, FACES, DELETIONS})

KIND_FULL = "full"
KIND_DELTA = "delta"
READ_CHUNK = 1024 * 1024

# The profile fields that must agree for two galleries' embeddings to be comparable.
PROFILE_KEYS = ("name", "dim", "metric", "preprocessing", "model_hashes")


def corrupt(message: str) -> ApplicationError:
    return ApplicationError(f"Corrupt bundle: {message}", code="bundle_corrupt")


def canonical_json(value: Any) -> bytes:
    """One stable encoding, so equal records give equal digests."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(record)).hexdigest()[:32]


def version_string(serial: int, when: datetime) -> str:
    """A bundle version: the export time (UTC) then its serial, so it sorts and is unique."""
    return f"{when:%Y%m%dT%H%M%SZ}-{serial:06d}"


def app_version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("+")[0].split("."))
    except ValueError as error:
        raise corrupt(f"unreadable app version {version!r}") from error


def file_sha256(stream: IO[bytes], progress: Any = None) -> tuple[str, int]:
    """sha256 and size of what `stream` yields, read in chunks; `progress(bytes)` per chunk."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(READ_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return digest.hexdigest(), size


class HashingWriter:
    """A binary file being written, with the sha256 and size of everything written so far."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._stream.write(data)
        self._digest.update(data)
        self.size += len(data)

    def write_line(self, record: dict[str, Any]) -> None:
        self.write(canonical_json(record) + b"\n")

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` says about a bundle."""

    version: str
    kind: str
    profile: dict[str, Any]
    created_at: str
    base_version: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    index: dict[str, Any] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    min_app_version: str = MIN_APP_VERSION
    app_version: str = ""

    @property
    def is_delta(self) -> bool:
        return self.kind == KIND_DELTA

    @property
    def dim(self) -> int:
        return int(self.profile["dim"])

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
        except (ValueError, UnicodeDecodeError) as error:
            raise corrupt("manifest.json is not JSON") from error
        if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
            raise corrupt("manifest.json does not describe a Stash Sense gallery bundle")
        if raw.get("format_version") not in SUPPORTED_FORMAT_VERSIONS:
            raise ApplicationError(
                f"Bundle format {raw.get('format_version')} is not supported by this version "
                f"(supported: {sorted(SUPPORTED_FORMAT_VERSIONS)}); upgrade Stash Sense.",
                code="bundle_unsupported",
            )
        known = set(cls.__dataclass_fields__)
        try:
            manifest = cls(**{key: value for key, value in raw.items() if key in known})
        except TypeError as error:
            raise corrupt(f"manifest.json lacks a field ({error})") from error
        manifest.check_shape()
        return manifest

    def check_shape(self) -> None:
        if self.kind not in (KIND_FULL, KIND_DELTA):
            raise corrupt(f"unknown bundle kind {self.kind!r}")
        if self.is_delta and not self.base_version:
            raise corrupt("a delta bundle without a base version")
        if not isinstance(self.profile, dict) or any(k not in self.profile for k in PROFILE_KEYS):
            raise corrupt("the manifest's profile is incomplete")
        expected = DELTA_MEMBERS if self.is_delta else FULL_MEMBERS
        missing = [name for name in expected if name not in self.files]
        if missing:
            raise corrupt(f"the manifest lists no {', '.join(missing)}")
        for name, entry in self.files.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
                raise corrupt(f"no checksum for {name}")


def profile_mismatches(bundle: dict[str, Any], local: dict[str, Any]) -> list[str]:
    """How the bundle's profile differs from this server's, in words; empty when they agree."""
    problems = []
    for key in ("name", "dim", "metric"):
        if bundle.get(key) != local.get(key):
            problems.append(f"{key} {bundle.get(key)!r} here is {local.get(key)!r}")
    bundle_hashes, local_hashes = bundle.get("model_hashes", {}), local.get("model_hashes", {})
    for role in sorted(set(bundle_hashes) | set(local_hashes)):
        if bundle_hashes.get(role) != local_hashes.get(role):
            problems.append(
                f"model {role} {str(bundle_hashes.get(role))[:12]}… here is "
                f"{str(local_hashes.get(role))[:12]}…"
            )
    bundle_steps, local_steps = bundle.get("preprocessing", {}), local.get("preprocessing", {})
    for step in sorted(set(bundle_steps) | set(local_steps)):
        if bundle_steps.get(step) != local_steps.get(step):
            problems.append(
                f"preprocessing {step} {bundle_steps.get(step)!r} here is {local_steps.get(step)!r}"
            )
    return problems
