"""Reading a bundle file: the manifest at once, every checksum before use, members streamed."""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bundles import format as bundle_format
from bundles.format import Manifest, corrupt, file_sha256

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, UnicodeDecodeError)


@dataclass(frozen=True)
class FaceRow:
    """One face of a bundle: its record, embedding bytes and crop bytes."""

    record: dict[str, Any]
    embedding: bytes
    crop: bytes


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """Turn whatever a damaged archive raises into one refusal that names the member."""
    try:
        yield
    except _READ_ERRORS as error:
        raise corrupt(f"{what}: {error}") from error


class BundleReader:
    """An opened bundle: the manifest read and checked for shape; members streamed on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with _reading(path.name):
            self._zip = zipfile.ZipFile(path)
        try:
            with _reading(bundle_format.MANIFEST), self._zip.open(bundle_format.MANIFEST) as handle:
                data = handle.read(MAX_MANIFEST_BYTES + 1)
            if len(data) > MAX_MANIFEST_BYTES:
                raise corrupt("manifest.json is too large")
            self.manifest = Manifest.from_json(data)
        except BaseException:
            self._zip.close()
            raise

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def verify(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Check every member against the manifest (sha256 and size) and the faces' sizes."""
        files = self.manifest.files
        present = set(self._zip.namelist()) - {bundle_format.MANIFEST}
        if present != set(files):
            raise corrupt(
                f"members {sorted(present ^ set(files))} differ from what the manifest lists"
            )
        total = sum(int(entry.get("bytes", 0)) for entry in files.values())
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        for name, entry in sorted(files.items()):
            if self._zip.getinfo(name).file_size != entry.get("bytes"):
                raise corrupt(f"{name} is not the size the manifest says")
            with _reading(name), self._zip.open(name) as handle:
                digest, size = file_sha256(handle, advance)
            if digest != entry["sha256"] or size != entry["bytes"]:
                raise corrupt(f"{name} does not match its checksum")
        faces = int(self.manifest.counts.get("faces", 0))
        if files[bundle_format.EMBEDDINGS].get("bytes") != faces * self.manifest.dim * 4:
            raise corrupt("the embeddings do not fit the number of faces")

    def open_member(self, name: str) -> IO[bytes]:
        with _reading(name):
            return self._zip.open(name)

    def _lines(self, name: str) -> Iterator[dict[str, Any]]:
        with _reading(name), self._zip.open(name) as raw:
            for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), start=1):
                try:
                    record = json.loads(line)
                except ValueError as error:
                    raise corrupt(f"{name} line {number} is not JSON") from error
                if not isinstance(record, dict):
                    raise corrupt(f"{name} line {number} is not an object")
                yield record

    def performers(self) -> Iterator[dict[str, Any]]:
        return self._lines(bundle_format.PERFORMERS)

    def deletions(self) -> Iterator[dict[str, Any]]:
        if bundle_format.DELETIONS not in self.manifest.files:
            return iter(())
        return self._lines(bundle_format.DELETIONS)

    def face_batches(self, size: int) -> Iterator[list[FaceRow]]:
        """Faces with their embedding and crop, `size` at a time, in the bundle's order."""
        row_bytes = self.manifest.dim * 4
        batch: list[FaceRow] = []
        count = 0
        with (
            _reading(bundle_format.EMBEDDINGS),
            self._zip.open(bundle_format.EMBEDDINGS) as embeddings,
            self._zip.open(bundle_format.CROPS) as crops,
        ):
            for record in self._lines(bundle_format.FACES):
                embedding = embeddings.read(row_bytes)
                crop = crops.read(_crop_size(record))
                if len(embedding) != row_bytes or len(crop) != record["crop_bytes"]:
                    raise corrupt("faces.jsonl lists more faces than the binary members hold")
                batch.append(FaceRow(record, embedding, crop))
                count += 1
                if len(batch) >= size:
                    yield batch
                    batch = []
            if batch:
                yield batch
            if embeddings.read(1) or crops.read(1):
                raise corrupt("the binary members hold more than faces.jsonl lists")
        if count != int(self.manifest.counts.get("faces", count)):
            raise corrupt("faces.jsonl does not hold the number of faces the manifest says")


def _crop_size(record: dict[str, Any]) -> int:
    size = record.get("crop_bytes")
    if not isinstance(size, int) or size < 0:
        raise corrupt(f"face {record.get('id')} has no crop size")
    return size
