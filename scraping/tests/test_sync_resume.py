"""A sync killed with SIGKILL mid-run resumes from its cursor: every performer exactly once.

`manage.py sync_source` runs as a real subprocess (on the Postgres test database, or on a
SQLite file of its own), slowed by the fake so it is surely mid-run when it is killed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Any

import pytest

from fakes import FakeStashBox
from scraping.choices import ItemState, RunStatus
from scraping.models import SyncItem
from scraping.tests.test_sync_support import PEOPLE, REPO_ROOT, needs_specs, photos
from stashsense.tests.databases import SubprocessDatabase

pytestmark = [needs_specs, pytest.mark.django_db(transaction=True), pytest.mark.slow]

PERFORMERS = 8


def _done_items(database: SubprocessDatabase) -> int:
    if database.sqlite_path is None:
        return SyncItem.objects.filter(state=ItemState.DONE).count()
    with sqlite3.connect(database.sqlite_path, timeout=20) as db:
        try:
            row = db.execute("SELECT count(*) FROM scraping_syncitem WHERE state = 'done'")
        except sqlite3.OperationalError:  # not migrated yet
            return 0
        return int(row.fetchone()[0])


def _manage(
    database: SubprocessDatabase, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), *args],
        cwd=REPO_ROOT,
        env=_env(database),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env(database: SubprocessDatabase) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database.url}
    env.pop("CELERY_BROKER_URL", None)  # in-process sync; no broker needed
    return env


SYNC = ["sync_source", "box", "--full", "--page-size", "3", "--max-photos", "1"]
# Run in a subprocess after the sync: what the database holds, as JSON.
REPORT = """
import json
from performers.models import Performer, StashId
from recognition.models import Face, SourceImage
from scraping.models import SyncItem, SyncRun
run = SyncRun.objects.get()
print(json.dumps({
    "status": run.status,
    "counts": [run.performers_new, run.photos, run.faces],
    "items": sorted(SyncItem.objects.values_list("upstream_id", flat=True)),
    "performers": Performer.objects.count(),
    "stash_ids": StashId.objects.count(),
    "images": SourceImage.objects.count(),
    "faces": Face.objects.count(),
    "faces_per_performer": sorted(set(p.faces.count() for p in Performer.objects.all())),
}))
"""


def _wait_for(condition: Any, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"sync_source exited early ({process.returncode}):\n{output}")
        if time.monotonic() > deadline:
            pytest.fail("the sync made no progress in time")
        time.sleep(0.05)


def test_a_sync_killed_mid_run_resumes_and_syncs_every_performer_exactly_once(
    box: FakeStashBox, faces_dir: object, face_models: None, subprocess_database: SubprocessDatabase
) -> None:
    ids = [
        box.add_performer(f"Performer {n}", images=photos(PEOPLE[n % len(PEOPLE)], 1))
        for n in range(PERFORMERS)
    ]
    if subprocess_database.sqlite_path is not None:
        migrated = _manage(subprocess_database, "migrate", "--no-input")
        assert migrated.returncode == 0, migrated.stderr
    added = _manage(
        subprocess_database,
        "source_add",
        "box",
        "--kind",
        "stashbox",
        "--url",
        box.endpoint,
        "--api-key",
        box.api_key,
        "--rpm",
        "60000",
    )
    assert added.returncode == 0, added.stderr
    box.slow_next(1000, seconds=0.25, path="/images/")

    first = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "manage.py"), *SYNC],
        cwd=REPO_ROOT,
        env=_env(subprocess_database),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(lambda: _done_items(subprocess_database) >= 3, 120, first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    killed_after = _done_items(subprocess_database)
    assert 3 <= killed_after < PERFORMERS

    second = _manage(subprocess_database, *SYNC)

    assert second.returncode == 0, second.stdout + second.stderr
    assert "Resuming full sync run #" in second.stdout
    assert f"{PERFORMERS} new" in second.stdout
    report = _manage(subprocess_database, "shell", "-c", REPORT)
    assert report.returncode == 0, report.stderr
    state = json.loads(report.stdout.strip().splitlines()[-1])
    assert state["status"] == RunStatus.DONE
    assert state["counts"] == [PERFORMERS, PERFORMERS, PERFORMERS]
    assert state["items"] == sorted(ids)
    assert state["performers"] == state["stash_ids"] == PERFORMERS
    assert state["images"] == state["faces"] == PERFORMERS
    assert state["faces_per_performer"] == [1]
