"""The Stash side of identification: scenes identified from Stash and stored, library scans.

A scene's identification is stored as a `SceneSuggestion`, whether the plugin asked for it
(`scene_identify_from_stash`) or a library scan walked past it (`scene_scan_execute`), so the
plugin can show it again without re-running the models.

A scan is held by one process at a time (`SceneScan.worker`); each of its writes is guarded by
that name, so a process that lost the scan (presumed dead and taken over) stops at its next
write, and the transaction it was in, suggestion included, rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction

from recognition.api.serializers import SceneIdentificationSerializer
from recognition.identification import SceneIdentification, identify_scene
from recognition.selectors import active_index
from recognition.video import DEFAULT_FRAMES
from stash.choices import SceneScanStatus, SuggestionOrigin
from stash.client import StashClient, StashError, StashScene, StashTimedOut
from stash.models import SceneScan, SceneSuggestion
from stash.scene_sources import stash_scene_identify
from stash.selectors import scene_scan_unfinished
from stashsense.errors import ApplicationError, Conflict, Unavailable
from stashsense.jobs import JobHolder, JobLost, job_claim, log_entry, worker_name

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
# What a scan reads of each scene. Measured per scene on this machine's 2 shared cores (README,
# "Library scans"): the sprite is the only mode that gets through 10k scenes in a night.
SCAN_MODES = ("sprite", "video", "auto")
DEFAULT_SCAN_MODE = "sprite"
# One scene (81 tiles) takes seconds to a minute on a small CPU; this long without a write
# means the holder is gone.
HEARTBEAT_STALE = timedelta(minutes=10)
# Stash answers for these per scene; anything else from Stash stops the scan (resumable).
SKIP_CODES = {
    "no_sprite": "no sprite (generate sprites in Stash)",
    "stash_bad_path": "sprite on another host",
    "scene_not_found": "scene deleted while scanning",
    "no_video": "no video file in Stash",
}
ALREADY_IDENTIFIED = "already identified"
WITHOUT_PERFORMERS = {"performer_count": {"value": 0, "modifier": "EQUALS"}}

Progress = Callable[[SceneScan], None]


def stash_client() -> StashClient:
    """The configured Stash (STASH_URL, STASH_API_KEY); StashNotConfigured without one."""
    return StashClient(settings.STASH_URL, settings.STASH_API_KEY)


@dataclass(frozen=True)
class StashSceneMedia:
    """What identification needs of a Stash scene: its sprite, VTT and its cast's stash IDs."""

    scene_id: str
    sprite: bytes
    vtt: str
    cast: list[dict[str, str]]


def stash_scene_media(*, stash_scene_id: str, client: StashClient | None = None) -> StashSceneMedia:
    """Read a scene's sprite and cast from Stash (StashError kinds when it cannot serve them)."""
    client = client or stash_client()
    scene = client.find_scene(str(stash_scene_id))
    sprite, vtt = client.scene_sprite(scene)
    return StashSceneMedia(scene_id=scene.id, sprite=sprite, vtt=vtt, cast=_cast(scene))


# --- stored suggestions ----------------------------------------------------------------------


@transaction.atomic
def scene_suggestion_store(
    *,
    stash_scene_id: str,
    result: SceneIdentification,
    origin: str = SuggestionOrigin.REQUEST,
    scan: SceneScan | None = None,
) -> SceneSuggestion:
    """Store (or replace) what identification found in a Stash scene.

    It is stored as the body of `POST /identify/scene` (the plugin reads stored and fresh
    results alike), so stored rows keep that shape whatever the dataclasses become.
    """
    suggestion, _ = SceneSuggestion.objects.update_or_create(
        stash_scene_id=str(stash_scene_id),
        defaults={
            "result": dict(SceneIdentificationSerializer(result).data),
            "persons": len(result.persons),
            "origin": origin,
            "scan": scan,
        },
    )
    return suggestion


def scene_identify_from_stash(
    *,
    stash_scene_id: str,
    known_performer_ids: Collection[Any] = (),
    top_k: int = 3,
    threshold: float | None = None,
    client: StashClient | None = None,
    mode: str | None = None,
    frame_count: int = DEFAULT_FRAMES,
) -> SceneSuggestion:
    """Identify a Stash scene now and store the result: from the sprite Stash generated
    (`mode` sprite), its video, or both (`auto`, the default; the sprite alone when the
    scene's video cannot be read)."""
    if mode != "sprite":
        scene_id, found = stash_scene_identify(
            stash_scene_id=stash_scene_id,
            mode=mode,
            frame_count=frame_count,
            known_performer_ids=known_performer_ids,
            top_k=top_k,
            threshold=threshold,
            client=client or stash_client(),
        )
        return scene_suggestion_store(stash_scene_id=scene_id, result=found)
    media = stash_scene_media(stash_scene_id=stash_scene_id, client=client)
    result = identify_scene(
        sprite=media.sprite,
        vtt=media.vtt,
        known_performer_ids=[*known_performer_ids, *media.cast],
        top_k=top_k,
        threshold=threshold,
    )
    return scene_suggestion_store(stash_scene_id=media.scene_id, result=result)


def _cast(scene: StashScene) -> list[dict[str, str]]:
    return [{"endpoint": s.endpoint, "stash_id": s.stash_id} for s in scene.cast_stash_ids]


# --- library scans: creating ---------------------------------------------------------------


def _scan_options(
    *,
    only_without_performers: bool,
    max_scenes: int | None,
    per_page: int,
    only_new: bool,
    mode: str = DEFAULT_SCAN_MODE,
) -> dict[str, Any]:
    if max_scenes is not None and max_scenes < 1:
        raise ApplicationError("max_scenes must be at least 1.", code="invalid")
    if not 1 <= per_page <= 1000:
        raise ApplicationError("per_page must be between 1 and 1000.", code="invalid")
    if mode not in SCAN_MODES:
        raise ApplicationError(f"mode must be one of {', '.join(SCAN_MODES)}.", code="invalid")
    options: dict[str, Any] = {
        "only_without_performers": only_without_performers,
        "only_new": only_new,
        "max_scenes": max_scenes,
        "per_page": per_page,
    }
    if mode != DEFAULT_SCAN_MODE:  # scans from before modes keep matching (and resuming)
        options["mode"] = mode
    return options


@transaction.atomic
def scene_scan_create(
    *,
    only_without_performers: bool = False,
    max_scenes: int | None = None,
    per_page: int = PAGE_SIZE,
    only_new: bool = False,
    mode: str = DEFAULT_SCAN_MODE,
) -> SceneScan:
    """A new scan of the whole library (or of the scenes without performers)."""
    options = _scan_options(
        only_without_performers=only_without_performers,
        max_scenes=max_scenes,
        per_page=per_page,
        only_new=only_new,
        mode=mode,
    )
    return SceneScan.objects.create(options=options, cursor={"page": 1, "last_id": None})


def scene_scan_for(
    *,
    only_without_performers: bool = False,
    max_scenes: int | None = None,
    per_page: int = PAGE_SIZE,
    only_new: bool = False,
    mode: str = DEFAULT_SCAN_MODE,
) -> tuple[SceneScan, bool]:
    """The unfinished scan with these options to resume, else a new one; (scan, resumed)."""
    options = _scan_options(
        only_without_performers=only_without_performers,
        max_scenes=max_scenes,
        per_page=per_page,
        only_new=only_new,
        mode=mode,
    )
    unfinished = scene_scan_unfinished(options=options)
    if unfinished is not None:
        return unfinished, True
    return scene_scan_create(**options), False


def scene_scan_enqueue(
    *,
    only_without_performers: bool = False,
    max_scenes: int | None = None,
    per_page: int = PAGE_SIZE,
    only_new: bool = False,
    mode: str = DEFAULT_SCAN_MODE,
) -> SceneScan:
    """Queue a scan for a Celery worker (an unfinished one with the same options resumes)."""
    from stash import tasks

    with transaction.atomic():
        scan, _ = scene_scan_for(
            only_without_performers=only_without_performers,
            max_scenes=max_scenes,
            per_page=per_page,
            only_new=only_new,
            mode=mode,
        )
        scan_id = scan.pk
        transaction.on_commit(lambda: tasks.scene_scan.delay(scan_id))
    return scan


# --- library scans: holding ----------------------------------------------------------------


class ScanLost(JobLost):
    """Another process took this scan over; the current one must stop writing."""


def _scan_claim(scan: SceneScan, worker: str) -> bool:
    """Take the scan: PENDING, FAILED or abandoned RUNNING ones; one conditional UPDATE."""
    return job_claim(scan, worker, stale_after=HEARTBEAT_STALE)


@dataclass
class _ScanHolder(JobHolder):
    """The process holding a scan: the only writer of its cursor, counters and log."""

    counters: ClassVar[tuple[str, ...]] = ("pages", "identified", "skipped", "errors", "persons")
    lost: ClassVar[type[JobLost]] = ScanLost

    @property
    def scan(self) -> SceneScan:
        assert isinstance(self.job, SceneScan)
        return self.job

    def commit(  # type: ignore[override]
        self,
        *,
        cursor: dict[str, Any] | None = None,
        log: dict[str, Any] | None = None,
        skip_reason: str = "",
        **changes: Any,
    ) -> None:
        """As JobHolder.commit, with one log entry and a tally of skip reasons."""
        if skip_reason:
            reasons = dict(self.scan.skip_reasons)
            reasons[skip_reason] = int(reasons.get(skip_reason, 0)) + 1
            changes["skip_reasons"] = reasons
        super().commit(cursor=cursor, log=[log] if log is not None else None, **changes)


def _log_entry(level: str, scene_id: str, message: str) -> dict[str, Any]:
    return log_entry(level, message, scene=scene_id)


# --- library scans: running ----------------------------------------------------------------


def scene_scan_execute(
    *, scan: SceneScan, client: StashClient | None = None, progress: Progress | None = None
) -> SceneScan:
    """Claim `scan` and walk the library to its end (or to `max_scenes`).

    Scenes without a sprite are skipped with their reason; a scene that cannot be identified
    is counted as an error and the scan goes on. Stash going away, a refused API key or a
    missing index stop the scan as FAILED (raised); running it again resumes at its cursor.
    """
    worker = worker_name()
    if not _scan_claim(scan, worker):
        raise Conflict(
            f"Library scan #{scan.pk} is {scan.get_status_display().lower()}"
            + (f" in {scan.worker}." if scan.status == SceneScanStatus.RUNNING else "."),
            code="scan_busy",
        )
    holder = _ScanHolder(scan, worker)
    try:
        if active_index() is None:
            raise Unavailable(
                "No face index yet: run `manage.py build_index` before scanning.",
                code="no_index",
            )
        _walk(holder, client or stash_client(), progress)
    except ScanLost as error:
        logger.warning("%s", error)
        scan.refresh_from_db()
        return scan
    except (StashError, ApplicationError) as error:
        holder.finish(SceneScanStatus.FAILED, last_error=str(error))
        raise
    except Exception as error:
        holder.finish(SceneScanStatus.FAILED, last_error=repr(error))
        raise
    holder.finish(SceneScanStatus.DONE)
    logger.info(
        "Library scan %s: %d identified, %d skipped, %d errors",
        scan.pk,
        scan.identified,
        scan.skipped,
        scan.errors,
    )
    return scan


def _walk(holder: _ScanHolder, client: StashClient, progress: Progress | None) -> None:
    options = holder.scan.options
    per_page = int(options.get("per_page") or PAGE_SIZE)
    scene_filter = WITHOUT_PERFORMERS if options.get("only_without_performers") else None
    while True:
        page_number = int(holder.cursor.get("page") or 1)
        page = client.scenes_page(page_number, per_page, scene_filter)
        if page.count != holder.scan.total:
            with transaction.atomic():
                holder.commit(total=page.count)
        if not page.scenes:
            return
        for scene in page.scenes:
            if _limit_reached(holder.scan):
                return
            if _is_done(scene.id, holder.cursor.get("last_id")):
                continue  # finished before a restart, or seen again because pages moved
            _scan_scene(holder, client, scene)
            if progress is not None:
                progress(holder.scan)
        with transaction.atomic():
            holder.commit(cursor={"page": page_number + 1}, pages=1)
        if len(page.scenes) < per_page:
            return


def _limit_reached(scan: SceneScan) -> bool:
    limit = scan.options.get("max_scenes")
    return bool(limit) and scan.processed >= int(limit)


def _id_order(scene_id: str) -> tuple[int, str]:
    return (int(scene_id), "") if scene_id.isdigit() else (1 << 62, scene_id)


def _is_done(scene_id: str, last_id: str | None) -> bool:
    """Stash lists scenes in id order, so everything up to the last finished id is done."""
    return last_id is not None and _id_order(scene_id) <= _id_order(str(last_id))


@dataclass
class _SceneOutcome:
    result: SceneIdentification | None = None
    skip_reason: str = ""
    error: str = ""
    counters: dict[str, int] = field(default_factory=dict)


def _scan_scene(holder: _ScanHolder, client: StashClient, scene: StashScene) -> None:
    """Identify one scene, then store it and move the cursor past it in one transaction."""
    options = holder.scan.options
    outcome = _identify_for_scan(
        client,
        scene,
        only_new=bool(options.get("only_new")),
        mode=str(options.get("mode") or DEFAULT_SCAN_MODE),
    )
    log = None
    if outcome.skip_reason:
        log = _log_entry("skip", scene.id, outcome.skip_reason)
    elif outcome.error:
        log = _log_entry("error", scene.id, outcome.error)
    with transaction.atomic():
        if outcome.result is not None:
            scene_suggestion_store(
                stash_scene_id=scene.id,
                result=outcome.result,
                origin=SuggestionOrigin.SCAN,
                scan=holder.scan,
            )
        extra = {"last_error": outcome.error[:2000]} if outcome.error else {}
        holder.commit(
            cursor={"last_id": scene.id},
            log=log,
            skip_reason=outcome.skip_reason,
            **outcome.counters,
            **extra,
        )


def _identify_for_scan(
    client: StashClient, scene: StashScene, *, only_new: bool, mode: str = DEFAULT_SCAN_MODE
) -> _SceneOutcome:
    if only_new and SceneSuggestion.objects.filter(stash_scene_id=scene.id).exists():
        return _SceneOutcome(skip_reason=ALREADY_IDENTIFIED, counters={"skipped": 1})
    if mode != "sprite":
        return _identify_video_for_scan(client, scene, mode)
    try:
        sprite, vtt = client.scene_sprite(scene)
        # The page lists only performer ids; their stash IDs help the vote (cast first).
        cast = _cast(client.find_scene(scene.id)) if scene.performer_ids else []
    except StashError as error:
        if error.code not in SKIP_CODES:
            raise  # Stash unreachable or refusing: stop here, a re-run resumes
        return _SceneOutcome(skip_reason=SKIP_CODES[error.code], counters={"skipped": 1})
    try:
        result = identify_scene(sprite=sprite, vtt=vtt, known_performer_ids=cast)
    except (ApplicationError, ValueError) as error:
        if isinstance(error, ApplicationError) and error.code in ("no_index", "busy"):
            raise
        message = f"scene {scene.id}: {getattr(error, 'message', None) or error}"
        logger.warning("Library scan: %s", message)
        return _SceneOutcome(error=message, counters={"errors": 1})
    return _SceneOutcome(result=result, counters={"identified": 1, "persons": len(result.persons)})


def _identify_video_for_scan(client: StashClient, scene: StashScene, mode: str) -> _SceneOutcome:
    """A scene read from its video (and sprite, in `auto`), the cast weighed as a prior."""
    try:
        _, result = stash_scene_identify(stash_scene_id=scene.id, mode=mode, client=client)
    except StashError as error:
        if error.code in SKIP_CODES:
            return _SceneOutcome(skip_reason=SKIP_CODES[error.code], counters={"skipped": 1})
        if isinstance(error, StashTimedOut):
            return _SceneOutcome(error=f"scene {scene.id}: {error.message}", counters={"errors": 1})
        raise  # Stash unreachable or refusing: stop here, a re-run resumes
    except ApplicationError as error:
        if error.code in ("no_index", "busy"):
            raise
        message = f"scene {scene.id}: {error.message}"
        logger.warning("Library scan: %s", message)
        return _SceneOutcome(error=message, counters={"errors": 1})
    return _SceneOutcome(result=result, counters={"identified": 1, "persons": len(result.persons)})
