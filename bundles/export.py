"""Writing a bundle: the whole gallery of a profile, or what changed since an earlier export.

One pass over performers and one over the profile's active faces, in id order and in batches:
each record is hashed into the ledger and, when the bundle wants it, written to its member
file in a temporary folder next to the destination. Then the deletions (deltas) or the index
(full bundles), the manifest, and one ZIP written under a temporary name and renamed.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.utils import timezone

import stashsense
from bundles import format as bundle_format
from bundles.decisions import merge_map
from bundles.export_records import (
    active_faces,
    face_blobs,
    face_record,
    face_row_batches,
    performer_record_batches,
)
from bundles.format import HashingWriter, Manifest, record_digest, version_string
from bundles.index_files import index_reconcile, params_of
from bundles.ledger import (
    FACE,
    PERFORMER,
    faces_existing,
    ledger_deletions,
    ledger_note,
    ledger_sweep,
    performers_existing,
)
from bundles.models import BundleExport
from performers.models import Performer, Source
from recognition.choices import BuildStatus
from recognition.configured_profile import profile_for, serving_profile
from recognition.index import (
    ExactIndex,
    IndexFileError,
    build_from_batches,
    check_metric,
    load_index,
    write_atomically,
)
from recognition.models import IndexBuild
from scraping.selectors import source_watermark
from stashsense.errors import ApplicationError

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
BATCH = 1000


@dataclass
class _Pass:
    """What one export pass needs and collects."""

    export: BundleExport
    profile: str
    dim: int
    since: int | None
    workdir: Path
    progress: Progress | None
    source_urls: dict[int, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    face_ids: array[int] = field(default_factory=lambda: array("q"))

    def report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def member(self, name: str) -> Path:
        return self.workdir / name


def bundle_export(
    *,
    destination: Path,
    since: str | None = None,
    profile: str | None = None,
    progress: Progress | None = None,
) -> BundleExport:
    """Write a full bundle, or a delta since the export `since`, to `destination`.

    `destination` is a file path, or a folder to write `stashsense-<profile>-<version>.zip`
    into. The export is recorded in `BundleExport` (status, counts, checksum).
    """
    name = profile or serving_profile()
    description = profile_for(name).describe()
    base = _base_export(since, name) if since else None
    export = BundleExport.objects.create(
        profile=name,
        kind=bundle_format.KIND_DELTA if base else bundle_format.KIND_FULL,
        base_version=since or "",
    )
    export.version = version_string(export.pk, export.created_at)
    export.save(update_fields=["version"])
    try:
        path, counts = _export(export, description, base, destination, progress)
    except BaseException as error:
        BundleExport.objects.filter(pk=export.pk).update(
            status=BuildStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    digest, _ = _file_digest(path)
    BundleExport.objects.filter(pk=export.pk).update(
        status=BuildStatus.DONE,
        path=str(path),
        sha256=digest,
        counts=counts,
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    logger.info("Exported %s bundle %s to %s: %s", export.kind, export.version, path, counts)
    return export


def _base_export(since: str, profile: str) -> BundleExport:
    base = BundleExport.objects.filter(
        version=since, profile=profile, status=BuildStatus.DONE
    ).first()
    if base is None:
        raise ApplicationError(
            f"No finished export {since!r} of profile {profile!r} here: a delta must start "
            "from a bundle this server exported.",
            code="bundle_unknown_base",
        )
    return base


def _export(
    export: BundleExport,
    description: dict[str, Any],
    base: BundleExport | None,
    destination: Path,
    progress: Progress | None,
) -> tuple[Path, dict[str, int]]:
    final = _final_path(destination, export)
    workdir = Path(tempfile.mkdtemp(prefix=".bundle-", dir=final.parent))
    try:
        state = _Pass(
            export=export,
            profile=export.profile,
            dim=int(description["dim"]),
            since=base.pk if base else None,
            workdir=workdir,
            progress=progress,
            source_urls=dict(Source.objects.values_list("pk", "url")),
        )
        _write_performers(state)
        _write_faces(state)
        _sweep(state)
        if base is not None:
            _write_deletions(state)
            index: dict[str, Any] = {"calibration": _active_calibration(export.profile)}
        else:
            index = _write_index(state, str(description["metric"]))
        manifest = Manifest(
            version=export.version,
            kind=export.kind,
            base_version=export.base_version,
            profile=description,
            created_at=export.created_at.isoformat(),
            counts=state.counts,
            sources=_sources(),
            index=index,
            files=state.files,
            app_version=stashsense.__version__,
        )
        write_atomically(final, lambda temporary: _zip(temporary, manifest, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return final, state.counts


def _final_path(destination: Path, export: BundleExport) -> Path:
    if destination.is_dir():
        suffix = "-delta" if export.kind == bundle_format.KIND_DELTA else ""
        return destination / f"stashsense-{export.profile}-{export.version}{suffix}.zip"
    destination.parent.mkdir(parents=True, exist_ok=True)
    return destination


class _Members:
    """Member files being written in the work folder, each hashed as it grows."""

    def __init__(self, state: _Pass, names: tuple[str, ...]) -> None:
        self._state = state
        self._handles: dict[str, IO[bytes]] = {}
        self.writers: dict[str, HashingWriter] = {}
        for name in names:
            handle = state.member(name).open("wb")
            self._handles[name] = handle
            self.writers[name] = HashingWriter(handle)

    def __enter__(self) -> dict[str, HashingWriter]:
        return self.writers

    def __exit__(self, *exc_info: object) -> None:
        for name, handle in self._handles.items():
            handle.close()
            writer = self.writers[name]
            self._state.files[name] = {"sha256": writer.sha256, "bytes": writer.size}


def _write_performers(state: _Pass) -> None:
    total = Performer.objects.count()
    written = seen = 0
    with _Members(state, (bundle_format.PERFORMERS,)) as writers:
        for records in performer_record_batches(state.source_urls, batch_size=BATCH):
            written += _flush_performers(state, records, writers[bundle_format.PERFORMERS])
            seen += len(records)
            state.report("performers", seen, total)
    state.counts["performers"] = written


def _flush_performers(state: _Pass, records: list[dict[str, Any]], writer: HashingWriter) -> int:
    digests = {record["id"]: record_digest(record) for record in records}
    with transaction.atomic():
        changed_in = ledger_note(
            kind=PERFORMER, profile="", digests=digests, serial=state.export.pk
        )
    chosen = [r for r in records if state.since is None or changed_in[r["id"]] > state.since]
    for record in chosen:
        writer.write_line(record)
    return len(chosen)


def _write_faces(state: _Pass) -> None:
    total = active_faces(state.profile).count()
    names = (bundle_format.FACES, bundle_format.EMBEDDINGS, bundle_format.CROPS)
    seen = skipped = 0
    with _Members(state, names) as writers:
        for rows in face_row_batches(state.profile, batch_size=BATCH):
            records = [face_record(row, state.source_urls) for row in rows]
            digests = {str(record["id"]): record_digest(record) for record in records}
            with transaction.atomic():
                changed_in = ledger_note(
                    kind=FACE, profile=state.profile, digests=digests, serial=state.export.pk
                )
            chosen = [
                r for r in records if state.since is None or changed_in[str(r["id"])] > state.since
            ]
            skipped += _write_face_batch(state, chosen, writers)
            seen += len(rows)
            state.report("faces", seen, total)
    state.counts["faces"] = len(state.face_ids)
    state.counts["faces_skipped"] = skipped


def _write_face_batch(
    state: _Pass, records: list[dict[str, Any]], writers: dict[str, HashingWriter]
) -> int:
    """Write the faces' lines, embeddings and crops; returns how many had to be left out."""
    blobs = face_blobs([record["id"] for record in records])
    skipped = 0
    for record in records:
        embedding, crop = blobs.get(record["id"], (b"", b""))
        if len(embedding) != state.dim * 4:
            # Deleted since the metadata was read, or not of this profile's size: leave it out
            # (the next export's ledger sweep notices the deletion).
            skipped += 1
            continue
        writers[bundle_format.FACES].write_line({**record, "crop_bytes": len(crop)})
        writers[bundle_format.EMBEDDINGS].write(embedding)
        writers[bundle_format.CROPS].write(crop)
        state.face_ids.append(record["id"])
    return skipped


def _sweep(state: _Pass) -> None:
    merged = merge_map()
    serial = state.export.pk
    state.counts["performers_gone"] = ledger_sweep(
        kind=PERFORMER,
        profile="",
        serial=serial,
        existing=performers_existing,
        merged_into=lambda key: merged.get(key, ""),
    )
    state.counts["faces_gone"] = ledger_sweep(
        kind=FACE, profile=state.profile, serial=serial, existing=faces_existing(state.profile)
    )


def _write_deletions(state: _Pass) -> None:
    assert state.since is not None
    performers = faces = 0
    with _Members(state, (bundle_format.DELETIONS,)) as writers:
        writer = writers[bundle_format.DELETIONS]
        for key, merged_into in ledger_deletions(kind=PERFORMER, profile="", since=state.since):
            writer.write_line({"kind": PERFORMER, "id": key, "merged_into": merged_into or None})
            performers += 1
        for key, _ in ledger_deletions(kind=FACE, profile=state.profile, since=state.since):
            writer.write_line({"kind": FACE, "id": int(key)})
            faces += 1
    state.counts["deleted_performers"] = performers
    state.counts["deleted_faces"] = faces


def _active_calibration(profile: str) -> dict[str, Any]:
    build = IndexBuild.objects.filter(profile=profile, active=True).first()
    return dict(build.calibration) if build else {}


def _write_index(state: _Pass, metric: str) -> dict[str, Any]:
    """An index over exactly the exported faces: the active one adjusted, or a new build."""
    build = IndexBuild.objects.filter(profile=state.profile, active=True).first()
    params = params_of(build)
    wanted = np.frombuffer(state.face_ids, dtype=np.int64).copy()
    path = state.member(bundle_format.INDEX)
    state.report("index", 0, len(wanted))
    try:
        index = load_index(build.path) if build is not None else None
    except IndexFileError:
        index = None
    if index is not None and index.dim == state.dim:
        index_reconcile(index, np.sort(wanted))
        index.save(path)
        kind, faces = ("exact" if isinstance(index, ExactIndex) else "hnsw"), len(index)
    else:
        stats = build_from_batches(
            path,
            state.dim,
            check_metric(metric),
            _exported_vectors(state, wanted),
            params=params,
        )
        kind, faces = stats.kind, stats.vectors
    state.report("index", len(wanted), len(wanted))
    digest, size = _file_digest(path)
    state.files[bundle_format.INDEX] = {"sha256": digest, "bytes": size}
    return {
        "file": bundle_format.INDEX,
        "kind": kind,
        "faces": faces,
        "params": asdict(params),
        "calibration": dict(build.calibration) if build else {},
    }


def _exported_vectors(
    state: _Pass, ids: npt.NDArray[np.int64]
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]:
    """The bundle's own embeddings member, read back in batches with their face ids."""
    row_bytes = state.dim * 4
    with state.member(bundle_format.EMBEDDINGS).open("rb") as handle:
        for start in range(0, len(ids), BATCH * 10):
            labels = ids[start : start + BATCH * 10]
            data = handle.read(row_bytes * len(labels))
            yield labels, np.frombuffer(data, dtype="<f4").reshape(len(labels), state.dim)


def _sources() -> list[dict[str, Any]]:
    sources = []
    for source in Source.objects.order_by("priority", "name"):
        watermark = source_watermark(source=source)
        sources.append(
            {
                "name": source.name,
                "kind": source.kind,
                "url": source.url,
                "priority": source.priority,
                "watermark": watermark.isoformat() if watermark else None,
            }
        )
    return sources


def _zip(temporary: str, manifest: Manifest, workdir: Path) -> None:
    with zipfile.ZipFile(temporary, "w", allowZip64=True) as archive:
        archive.writestr(bundle_format.MANIFEST, manifest.to_json(), zipfile.ZIP_DEFLATED)
        for name in manifest.files:
            compression = (
                zipfile.ZIP_DEFLATED
                if name in bundle_format.COMPRESSED_MEMBERS
                else zipfile.ZIP_STORED
            )
            archive.write(workdir / name, arcname=name, compress_type=compression)


def _file_digest(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        return bundle_format.file_sha256(handle)
