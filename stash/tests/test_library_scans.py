"""Library scans: every Stash scene identified once, stored, resumable, with visible progress.

A fake Stash holds six scenes cut from the shared stills sprite; two were never sprited.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from fakes.stash_server import FakePerformer, FakeStash
from performers.models import Performer
from recognition.tests.engine.support import FACES, REPO_ROOT, default_profile_or_skip, models_dir
from stash import tasks
from stash.choices import SceneScanStatus
from stash.client import StashError
from stash.library_scans import (
    SKIP_CODES,
    scene_scan_create,
    scene_scan_enqueue,
    scene_scan_execute,
    scene_scan_for,
)
from stash.models import SceneScan, SceneSuggestion
from stash.selectors import scene_scans_recent
from stash.tests.stash_scenes import STASH_API_KEY, stash, stills_scene, stills_vtt
from stashsense.errors import ApplicationError
from stashsense.tests.databases import SubprocessDatabase

__all__ = ["stash"]

pytestmark = [pytest.mark.django_db]

SPRITED = ["1", "3", "4", "6"]
NO_SPRITE = SKIP_CODES["no_sprite"]


def add_library(stash: FakeStash, folder: Path) -> FakeStash:
    """Scenes 1-6, two tiles each; 2 and 5 have no sprite; 3 already has a performer."""
    tiles = {"1": [1, 2], "3": [12, 13], "4": [2, 12], "6": [1, 13]}
    stash.add_performer(FakePerformer("50", "Carmen Electra", stash_ids=[]))
    for scene_id in ["1", "2", "3", "4", "5", "6"]:
        vtt = stills_vtt(folder, tiles[scene_id], f"scene{scene_id}") if scene_id in tiles else None
        stash.add_scene(stills_scene(scene_id, vtt, ["50"] if scene_id == "3" else []))
    return stash


@pytest.fixture
def library(stash: FakeStash, tmp_path: Path) -> FakeStash:
    return add_library(stash, tmp_path)


def sprite_requests(stash: FakeStash, scene_id: str) -> int:
    return stash.request_count(f"/scene/{scene_id}/sprite", method="GET")


def stored_ids() -> list[str]:
    return sorted(SceneSuggestion.objects.values_list("stash_scene_id", flat=True), key=int)


@pytest.mark.models
def test_a_scan_identifies_every_scene_and_skips_those_without_a_sprite(
    enrolled: dict[str, Performer], library: FakeStash
) -> None:
    seen: list[int] = []
    scan = scene_scan_create(per_page=2)

    scan = scene_scan_execute(scan=scan, progress=lambda s: seen.append(s.processed))

    assert scan.status == SceneScanStatus.DONE and scan.progress == 1.0
    assert (scan.total, scan.pages) == (6, 3)
    assert (scan.identified, scan.skipped, scan.errors) == (4, 2, 0)
    assert scan.skip_reasons == {NO_SPRITE: 2}
    assert [(e["scene"], e["level"]) for e in scan.log] == [("2", "skip"), ("5", "skip")]
    assert seen == [1, 2, 3, 4, 5, 6]
    assert stored_ids() == SPRITED
    suggestion = SceneSuggestion.objects.get(stash_scene_id="1")
    assert suggestion.origin == "scan" and suggestion.scan_id == scan.pk
    names = {m["performer"]["name"] for p in suggestion.result["persons"] for m in p["matches"]}
    assert {"Bill Simon", "Carmen Electra"} <= names
    assert scan.persons == sum(s.persons for s in SceneSuggestion.objects.all()) >= 8
    assert all(sprite_requests(library, scene_id) == 1 for scene_id in SPRITED)


@pytest.mark.models
def test_only_scenes_without_performers_are_scanned_when_asked(
    enrolled: dict[str, Performer], library: FakeStash
) -> None:
    scan = scene_scan_execute(scan=scene_scan_create(only_without_performers=True, per_page=2))

    assert scan.total == 5 and scan.identified == 3 and scan.skipped == 2
    assert stored_ids() == ["1", "4", "6"]


@pytest.mark.models
def test_max_scenes_stops_early_and_a_scan_of_new_scenes_does_only_the_rest(
    enrolled: dict[str, Performer], library: FakeStash
) -> None:
    first = scene_scan_execute(scan=scene_scan_create(max_scenes=3, per_page=2))
    assert first.status == SceneScanStatus.DONE and first.processed == 3 and first.target == 3
    assert stored_ids() == ["1", "3"]

    rest = scene_scan_execute(scan=scene_scan_create(only_new=True, per_page=4))

    assert (rest.identified, rest.skipped) == (2, 4)
    assert rest.skip_reasons == {"already identified": 2, NO_SPRITE: 2}
    assert stored_ids() == SPRITED
    assert all(sprite_requests(library, scene_id) == 1 for scene_id in SPRITED)


@pytest.mark.models
def test_a_scan_that_loses_stash_fails_and_resumes_where_it_stopped(
    enrolled: dict[str, Performer], library: FakeStash
) -> None:
    def stash_goes_away(scan: SceneScan) -> None:
        if scan.processed == 3:  # scenes 1-3 done, mid-way through page 2
            library.fail_next(1000, status=502, path="/scene/")

    scan = scene_scan_create(per_page=2)
    with pytest.raises(StashError):
        scene_scan_execute(scan=scan, progress=stash_goes_away)
    scan.refresh_from_db()
    assert scan.status == SceneScanStatus.FAILED and "502" in scan.last_error
    assert scan.processed == 3 and scan.cursor == {"page": 2, "last_id": "3"}

    library.clear_faults()
    again, resumed = scene_scan_for(per_page=2)
    assert resumed and again.pk == scan.pk
    done = scene_scan_execute(scan=again)

    assert done.status == SceneScanStatus.DONE
    assert (done.identified, done.skipped, done.errors) == (4, 2, 0)
    assert stored_ids() == SPRITED
    assert [sprite_requests(library, s) for s in ["1", "3"]] == [1, 1]  # not done again


@pytest.mark.models
def test_a_scene_that_cannot_be_identified_is_an_error_and_the_scan_goes_on(
    enrolled: dict[str, Performer], stash: FakeStash, tmp_path: Path
) -> None:
    broken = tmp_path / "broken_thumbs.vtt"
    broken.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nsprite.jpg#xywh=9000,0,160,90\n")
    stash.add_scene(stills_scene("1", broken))
    stash.add_scene(stills_scene("2", stills_vtt(tmp_path, [1])))

    scan = scene_scan_execute(scan=scene_scan_create())

    assert scan.status == SceneScanStatus.DONE
    assert (scan.identified, scan.skipped, scan.errors) == (1, 0, 1)
    assert scan.last_error.startswith("scene 1:")
    assert [(e["scene"], e["level"]) for e in scan.log] == [("1", "error")]
    assert stored_ids() == ["2"]


def test_a_scan_without_a_face_index_fails_saying_what_to_do(library: FakeStash) -> None:
    scan = scene_scan_create()
    with pytest.raises(ApplicationError, match="build_index"):
        scene_scan_execute(scan=scan)
    scan.refresh_from_db()
    assert scan.status == SceneScanStatus.FAILED and "build_index" in scan.last_error
    with pytest.raises(CommandError, match="build_index"):
        call_command("scan_library", stdout=io.StringIO())


def test_a_scan_held_by_a_live_process_elsewhere_is_left_alone(library: FakeStash) -> None:
    scan = scene_scan_create()
    SceneScan.objects.filter(pk=scan.pk).update(
        status=SceneScanStatus.RUNNING, worker="other-host:1", heartbeat_at=timezone.now()
    )
    with pytest.raises(ApplicationError) as caught:
        scene_scan_execute(scan=scan)
    assert caught.value.code == "scan_busy" and "other-host:1" in caught.value.message


@pytest.mark.models
def test_the_command_prints_a_summary_line(
    enrolled: dict[str, Performer], library: FakeStash
) -> None:
    out = io.StringIO()
    call_command("scan_library", "--max-scenes", "2", "--page-size", "2", stdout=out)
    assert (
        f"1 scenes identified, 1 skipped ({NO_SPRITE}: 1), 0 errors" in out.getvalue()
        and "6 scenes in Stash (stopped at --max-scenes)" in out.getvalue()
    )


def test_a_scan_is_queued_once_after_commit_and_an_unfinished_one_is_reused(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        scan = scene_scan_enqueue(only_without_performers=True, max_scenes=1)
    assert len(queued) == 1 and scan.status == SceneScanStatus.PENDING
    again = scene_scan_enqueue(only_without_performers=True, max_scenes=1)
    assert again.pk == scan.pk and SceneScan.objects.count() == 1


@pytest.mark.models
def test_the_task_takes_an_id_and_resumes_a_failed_scan(
    enrolled: dict[str, Performer], library: FakeStash
) -> None:
    scan = scene_scan_create(max_scenes=1)
    SceneScan.objects.filter(pk=scan.pk).update(status=SceneScanStatus.FAILED)

    tasks.scene_scan.apply(args=(scan.pk,)).get()

    scan.refresh_from_db()
    assert scan.status == SceneScanStatus.DONE and scan.identified == 1


@pytest.mark.models
def test_scan_progress_is_listed_by_the_api_and_the_selector(
    api_client: APIClient, enrolled: dict[str, Performer], library: FakeStash
) -> None:
    scan = scene_scan_execute(scan=scene_scan_create(max_scenes=2))

    body = api_client.get("/api/v1/scans").json()

    assert list(scene_scans_recent()) == [scan]
    [listed] = body["scans"]
    assert listed["id"] == scan.pk and listed["status"] == "done" and listed["progress"] == 1.0
    assert (listed["identified"], listed["skipped"], listed["target"]) == (1, 1, 2)
    assert listed["skip_reasons"] == {NO_SPRITE: 1}


def test_bad_scan_options_are_refused() -> None:
    with pytest.raises(ApplicationError, match="max_scenes"):
        scene_scan_create(max_scenes=0)
    with pytest.raises(ApplicationError, match="per_page"):
        scene_scan_create(per_page=0)


# --- killed and resumed: a real `manage.py scan_library` process -----------------------------


def _scan_state(database: SubprocessDatabase) -> tuple[int, str | None]:
    """(scenes processed, last finished scene id) of the one scan, (0, None) before it."""
    if database.sqlite_path is None:
        scan = SceneScan.objects.first()
        return (scan.processed, scan.cursor.get("last_id")) if scan else (0, None)
    with sqlite3.connect(database.sqlite_path, timeout=20) as db:
        try:
            row = db.execute(
                "SELECT identified + skipped + errors, cursor FROM recognition_scenescan"
            ).fetchone()
        except sqlite3.OperationalError:  # not migrated yet
            return 0, None
    return (int(row[0]), json.loads(row[1]).get("last_id")) if row else (0, None)


def _environment(database: SubprocessDatabase, stash: FakeStash, data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "STASHSENSE_DATA_DIR": str(data_dir),
        "STASHSENSE_MODELS_DIR": str(models_dir()),
        "STASH_URL": stash.url,
        "STASH_API_KEY": STASH_API_KEY,
    }
    env.pop("CELERY_BROKER_URL", None)  # the command runs in-process; no broker needed
    return env


SCAN = [sys.executable, str(REPO_ROOT / "manage.py"), "scan_library", "--page-size", "2"]
REPORT = """
import json
from stash.models import SceneScan, SceneSuggestion
scan = SceneScan.objects.get()
print(json.dumps({
    "status": scan.status,
    "counts": [scan.identified, scan.skipped, scan.errors],
    "skip_reasons": scan.skip_reasons,
    "stored": sorted(SceneSuggestion.objects.values_list("stash_scene_id", flat=True)),
    "from_scan": SceneSuggestion.objects.filter(scan=scan).count(),
}))
"""


@pytest.mark.slow
@pytest.mark.models
@pytest.mark.django_db(transaction=True)
def test_a_scan_killed_mid_run_resumes_and_covers_every_scene_exactly_once(
    stash: FakeStash, tmp_path: Path, subprocess_database: SubprocessDatabase
) -> None:
    default_profile_or_skip()
    add_library(stash, tmp_path)
    env = _environment(subprocess_database, stash, tmp_path / "data")
    photos = tmp_path / "gallery"
    for identity in ["Bill_Simon", "Carmen_Electra", "deepface_p01"]:
        (photos / identity).mkdir(parents=True)
        for photo in sorted((FACES / identity).glob("*.jpg"))[1:3]:
            shutil.copy(photo, photos / identity / photo.name)

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(REPO_ROOT / "manage.py"), *args]
        return subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
        )

    if subprocess_database.sqlite_path is not None:
        assert manage("migrate", "--no-input").returncode == 0
    for step in (["enroll", str(photos)], ["build_index"]):
        done = manage(*step)
        assert done.returncode == 0, done.stdout + done.stderr
    stash.slow_next(1000, seconds=0.4, path="/scene/")  # every sprite, VTT and 404 is slow

    first = subprocess.Popen(
        SCAN, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while _scan_state(subprocess_database)[0] < 2:
            if first.poll() is not None:
                output = first.stdout.read().decode() if first.stdout else ""
                pytest.fail(f"scan_library exited early ({first.returncode}):\n{output}")
            assert time.monotonic() < deadline, "the scan made no progress in time"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    processed, last_id = _scan_state(subprocess_database)
    assert 2 <= processed < 6 and last_id is not None
    stash.clear_faults()

    second = manage("scan_library", "--page-size", "2")

    assert second.returncode == 0, second.stdout + second.stderr
    assert "Resuming library scan #" in second.stdout
    assert "4 scenes identified, 2 skipped" in second.stdout
    report = manage("shell", "-c", REPORT)
    assert report.returncode == 0, report.stderr
    state = json.loads(report.stdout.strip().splitlines()[-1])
    assert state["status"] == SceneScanStatus.DONE
    assert state["counts"] == [4, 2, 0] and state["skip_reasons"] == {NO_SPRITE: 2}
    assert sorted(state["stored"], key=int) == SPRITED and state["from_scan"] == 4
    finished_before_kill = [s for s in SPRITED if int(s) <= int(last_id)]
    assert finished_before_kill  # and the resumed run never fetched them again:
    assert [sprite_requests(stash, s) for s in finished_before_kill] == [1] * len(
        finished_before_kill
    )
