"""Importing a bundle: check everything, then switch the gallery in one step.

1. Before anything is written: the manifest (format, app version), the profile (name, model
   hashes, preprocessing, dimension and metric must equal this server's), the version chain
   (a delta's base must be the last bundle applied here), and the sha256 of every member.
2. One database transaction applies performers, faces and deletions batch by batch, writes
   the new index file (temporary name, `os.replace`) under a new build, and activates that
   build and records the import as applied in the same commit. Until that commit, and after
   any failure or a killed process, the previous gallery and index keep serving. A failed
   import deletes its new file; a killed one leaves `bundle-import-<id>.index` behind, which
   no build names.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

import stashsense
from bundles import format as bundle_format
from bundles.context import ImportContext
from bundles.decisions import LocalDecisions
from bundles.faces import face_ids_reserve, faces_absent_forget, faces_apply, faces_forget
from bundles.format import Manifest, app_version_tuple, profile_mismatches
from bundles.graph import (
    performer_forget,
    performers_absent_forget,
    performers_apply,
    sources_ensure,
    stash_ids_stale_remove,
)
from bundles.index_files import (
    active_face_ids,
    file_copy_atomically,
    index_path,
    index_reconcile,
    params_of,
    stale_index_files_remove,
)
from bundles.models import BundleImport
from bundles.reader import BundleReader
from performers.models import Source
from recognition.choices import BuildStatus, FaceStatus
from recognition.configured_profile import profile_for, serving_profile
from recognition.index import (
    ExactIndex,
    FaceIndex,
    IndexFileError,
    IndexParams,
    build_from_batches,
    check_metric,
    load_index,
)
from recognition.models import Face, IndexBuild
from recognition.searchable_gallery import galleries_reset, iter_face_vectors
from scraping.services import source_watermark_adopt
from stashsense.errors import ApplicationError

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
BATCH = 1000
_T = TypeVar("_T")


def bundle_last_applied(*, profile: str) -> BundleImport | None:
    """The newest bundle applied to a profile's gallery: what the next delta must continue."""
    return (
        BundleImport.objects.filter(profile=profile, status=BuildStatus.DONE)
        .order_by("-pk")
        .first()
    )


def bundle_check(*, path: Path, profile: str | None = None) -> Manifest:
    """Everything `bundle_import` checks before it writes; the manifest when all is well."""
    name = profile or serving_profile()
    with BundleReader(path) as reader:
        _check_compatible(reader.manifest, name)
        _check_chain(reader.manifest, name)
        reader.verify()
        return reader.manifest


def bundle_import(
    *,
    path: Path,
    profile: str | None = None,
    origin: str = "",
    progress: Progress | None = None,
) -> BundleImport:
    """Check a bundle file and apply it to the profile's gallery atomically (see module doc)."""
    name = profile or serving_profile()
    with BundleReader(path) as reader:
        manifest = reader.manifest
        _check_compatible(manifest, name)
        _check_chain(manifest, name)
        reader.verify(lambda done, total: progress("verify", done, total) if progress else None)
        record = _record_start(manifest, name, origin or str(path))
        context = ImportContext(record=record, profile=name, decisions=LocalDecisions())
        try:
            _apply(reader, context, progress)
        except BaseException as error:
            if context.index_file is not None:
                context.index_file.unlink(missing_ok=True)
            BundleImport.objects.filter(pk=record.pk).update(
                status=BuildStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
            )
            raise
    record.refresh_from_db()
    logger.info("Imported %s bundle %s: %s", record.kind, record.version, record.counts)
    return record


def _check_compatible(manifest: Manifest, profile: str) -> None:
    if app_version_tuple(stashsense.__version__) < app_version_tuple(manifest.min_app_version):
        raise ApplicationError(
            f"This bundle needs Stash Sense {manifest.min_app_version} or newer "
            f"(this is {stashsense.__version__}).",
            code="bundle_unsupported",
        )
    bundle_profile = manifest.profile.get("name")
    if bundle_profile != profile:
        raise ApplicationError(
            f"This bundle holds a {bundle_profile!r} gallery; this server uses profile "
            f"{profile!r}. Nothing was imported. To serve this bundle, set "
            f"STASHSENSE_PROFILE={bundle_profile} (and run `manage.py reembed --profile "
            f"{profile}` later to move the gallery to {profile!r}).",
            code="bundle_profile_mismatch",
        )
    problems = profile_mismatches(manifest.profile, profile_for(profile).describe())
    if problems:
        raise ApplicationError(
            f"This bundle's {profile!r} embeddings were made with other models or "
            f"preprocessing than this server's, so they would not be comparable: "
            f"{'; '.join(problems)}. Nothing was imported.",
            code="bundle_profile_mismatch",
        )


def _check_chain(manifest: Manifest, profile: str) -> None:
    if not manifest.is_delta:
        return
    last = bundle_last_applied(profile=profile)
    if last is None:
        raise ApplicationError(
            f"Delta bundle {manifest.version} continues {manifest.base_version}, but no bundle "
            "was applied here yet: import a full bundle first.",
            code="bundle_gap",
        )
    if last.version == manifest.version:
        raise ApplicationError(
            f"Bundle {manifest.version} is already applied.", code="bundle_already_applied"
        )
    if last.version != manifest.base_version:
        raise ApplicationError(
            f"Delta bundle {manifest.version} continues {manifest.base_version}, but the last "
            f"bundle applied here is {last.version}: apply the deltas in between, or a full "
            "bundle.",
            code="bundle_gap",
        )


def _record_start(manifest: Manifest, profile: str, origin: str) -> BundleImport:
    # A record left running belongs to an import that was killed: its transaction is gone.
    BundleImport.objects.filter(profile=profile, status=BuildStatus.RUNNING).update(
        status=BuildStatus.FAILED,
        error="interrupted before it finished",
        finished_at=timezone.now(),
    )
    summary = {key: value for key, value in asdict(manifest).items() if key != "files"}
    return BundleImport.objects.create(
        profile=profile,
        kind=manifest.kind,
        version=manifest.version,
        base_version=manifest.base_version,
        origin=origin[:1000],
        sha256=hashlib.sha256(manifest.to_json()).hexdigest(),
        manifest=summary,
    )


def _batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _watermarks_adopt(manifest: Manifest, context: ImportContext) -> None:
    """The publisher's sync watermarks: local incremental syncs continue from them."""
    for entry in manifest.sources:
        source_id = context.source_ids.get(str(entry.get("url") or ""))
        try:
            text = entry.get("watermark")
            watermark = parse_datetime(text) if isinstance(text, str) else None
        except ValueError:  # well-formed but impossible, e.g. month 13: no watermark
            watermark = None
        if source_id is None or watermark is None or watermark.tzinfo is None:
            continue
        source_watermark_adopt(
            source=Source.objects.get(pk=source_id),
            watermark=watermark,
            origin=f"bundle {manifest.version}",
        )


@transaction.atomic
def _apply(reader: BundleReader, context: ImportContext, progress: Progress | None) -> None:
    manifest, profile, record = reader.manifest, context.profile, context.record
    # Serialises imports of a profile (Postgres); SQLite's write transaction already does.
    list(IndexBuild.objects.select_for_update().filter(profile=profile, active=True))
    _check_chain(manifest, profile)
    context.decisions = LocalDecisions.load()
    context.source_ids = sources_ensure(manifest.sources)

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    performers_total, done = int(manifest.counts.get("performers", 0)), 0
    for batch in _batched(reader.performers(), BATCH):
        performers_apply(batch, context)
        done += len(batch)
        report("performers", done, performers_total)
    stash_ids_stale_remove(context)
    faces_total, done = int(manifest.counts.get("faces", 0)), 0
    for rows in reader.face_batches(BATCH):
        faces_apply(rows, context)
        done += len(rows)
        report("faces", done, faces_total)
    _deletions_apply(reader, context)
    _watermarks_adopt(manifest, context)
    _face_sequence_reset()
    build = _index_switch(reader, context, report)
    BundleImport.objects.filter(pk=record.pk).update(
        status=BuildStatus.DONE,
        counts=dict(sorted(context.counts.items())),
        index_build=build,
        finished_at=timezone.now(),
    )
    transaction.on_commit(galleries_reset)
    transaction.on_commit(lambda: stale_index_files_remove(profile))


def _deletions_apply(reader: BundleReader, context: ImportContext) -> None:
    """Faces first, then performers (whose remaining faces may follow them into a merge)."""
    if not reader.manifest.is_delta:
        faces_absent_forget(context)
        performers_absent_forget(context)
        return
    faces = (d for d in reader.deletions() if d.get("kind") == "face")
    for batch in _batched(faces, BATCH):
        faces_forget([str(d.get("id")) for d in batch], context)
    for deletion in reader.deletions():
        if deletion.get("kind") == "performer":
            merged_into = deletion.get("merged_into")
            performer_forget(
                str(deletion.get("id")), str(merged_into) if merged_into else None, context
            )


def _face_sequence_reset() -> None:
    """Faces were inserted with explicit ids: the id sequence is past all of them (it never
    moves back, so the ids of deleted faces, which an older index file may still hold, are
    never handed out again)."""
    highest = Face.objects.order_by("-pk").values_list("pk", flat=True).first()
    face_ids_reserve(highest or 0)


def _index_switch(reader: BundleReader, context: ImportContext, report: Progress) -> IndexBuild:
    """Write the new index file under a new build and make that build the active one."""
    manifest, profile = reader.manifest, context.profile
    previous = IndexBuild.objects.filter(profile=profile, active=True).first()
    index_info = manifest.index
    params = _params(index_info.get("params"), previous)
    build = IndexBuild.objects.create(
        profile=profile,
        path="",
        calibration=index_info.get("calibration") or (previous.calibration if previous else {}),
    )
    # Named after the import, whose id is never reused: a failed import removes its own file.
    path = context.index_file = index_path(profile, build.pk).with_name(
        f"bundle-import-{context.record.pk}.index"
    )
    report("index", 0, 1)
    active = Face.objects.filter(profile=profile, status=FaceStatus.ACTIVE)
    faces_here = active.count()
    if _bundle_index_fits(manifest, context, faces_here):
        with reader.open_member(bundle_format.INDEX) as source:
            file_copy_atomically(source, path)
        kind = str(index_info.get("kind", ""))
    else:
        kind = _index_rebuilt(reader, context, previous, params, path)
    report("index", 1, 1)
    IndexBuild.objects.filter(profile=profile, active=True).update(active=False)
    IndexBuild.objects.filter(pk=build.pk).update(
        path=str(path),
        status=BuildStatus.DONE,
        active=True,
        faces=faces_here,
        performers=active.values("performer").distinct().count(),
        max_face_id=active.order_by("-pk").values_list("pk", flat=True).first() or 0,
        progress=1.0,
        built_at=timezone.now(),
        params={
            **asdict(params),
            "kind": kind,
            "dim": manifest.dim,
            "bundle": manifest.version,
        },
    )
    build.refresh_from_db()
    return build


def _bundle_index_fits(manifest: Manifest, context: ImportContext, faces_here: int) -> bool:
    """True when the gallery here is exactly the bundle's faces under their own ids."""
    counts = (int(manifest.counts.get("faces", -1)), int(manifest.index.get("faces", -2)))
    return not manifest.is_delta and context.faces_identical and counts == (faces_here, faces_here)


def _params(raw: Any, previous: IndexBuild | None) -> IndexParams:
    if isinstance(raw, dict):
        return IndexParams.from_stored(raw)
    return params_of(previous)


def _index_rebuilt(
    reader: BundleReader,
    context: ImportContext,
    previous: IndexBuild | None,
    params: IndexParams,
    path: Path,
) -> str:
    """The bundle's index (full) or the active one (delta), made to fit the faces here.

    The bundle's labels are its face ids: only those that are the same ids here are kept.
    The active index's labels are ours: all are kept but the ids this import gave out anew.
    """
    manifest = reader.manifest
    profile = str(manifest.profile["name"])
    wanted = active_face_ids(profile)
    if not manifest.is_delta:
        index = _bundle_index(reader)
        trusted, distrusted = _ids(context.same_id_faces), None
    else:
        index = _loaded(previous)
        trusted, distrusted = None, _ids(context.created_face_ids)
    if index is not None and index.dim == manifest.dim:
        index_reconcile(index, wanted, trusted=trusted, distrusted=distrusted)
        index.save(path)
        return "exact" if isinstance(index, ExactIndex) else "hnsw"
    stats = build_from_batches(
        path,
        manifest.dim,
        check_metric(str(manifest.profile["metric"])),
        iter_face_vectors(profile=profile),
        params=params,
    )
    return stats.kind


def _ids(values: array[int]) -> npt.NDArray[np.int64]:
    return np.frombuffer(values, dtype=np.int64).copy() if len(values) else np.zeros(0, np.int64)


def _loaded(build: IndexBuild | None) -> FaceIndex | ExactIndex | None:
    if build is None:
        return None
    try:
        return load_index(build.path)
    except IndexFileError:
        logger.warning("Active index %s is unreadable; rebuilding from the faces", build.path)
        return None


def _bundle_index(reader: BundleReader) -> FaceIndex | ExactIndex | None:
    """The bundle's index loaded from a temporary copy (Voyager reads files, not streams)."""
    directory = Path(settings.INDEX_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".bundle-index-")
    os.close(descriptor)
    try:
        with reader.open_member(bundle_format.INDEX) as source:
            file_copy_atomically(source, Path(temporary))
        return load_index(temporary)
    except IndexFileError:
        return None
    finally:
        Path(temporary).unlink(missing_ok=True)
