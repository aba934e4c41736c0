"""`build_index` killed while it writes the index file: the previous index keeps serving.

A real gallery (three enrolled photos) is indexed first; then a few hundred thousand synthetic
faces make the next build's file about 100 MB, so there is a moment to kill the process in:
once its temporary file has bytes in it. After the SIGKILL the previous build must still be
the active one, its file must load, and identification must still name a real photo. The next
build must then succeed next to the dead build's leftovers.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from recognition.index import load_index
from recognition.models import Face, IndexBuild
from stashsense.tests.fault.stack import (
    FACES,
    Stack,
    enroll,
    log_tail,
    models_or_skip,
    photos_or_skip,
    process_stop,
    stack_create,
    wait_for,
)

SYNTHETIC_FACES = 200_000
REAL = {"obama": ["001.jpg"], "Bill_Simon": ["001.jpg", "002.jpg"]}
REAL_FACES = 3
BUILD = IndexBuild._meta.db_table
FACE = Face._meta.db_table


def builds(stack: Stack) -> list[tuple[int, str, bool, int, str]]:
    """(id, status, active, faces, path) of every index build, oldest first."""
    rows = stack.query(f"SELECT id, status, active, faces, path FROM {BUILD} ORDER BY id")  # noqa: S608
    return [(int(i), str(s), bool(a), int(f), str(p)) for i, s, a, f, p in rows]


def partial_files(stack: Stack) -> list[Path]:
    """Temporary index files that already hold bytes: a writer is (or was) mid-write."""
    return [p for p in stack.index_dir.glob(".build-*.tmp") if p.stat().st_size > 0]


def identify_names(stack: Stack, photo: str) -> tuple[list[str | None], str]:
    """`manage.py identify --json` in the stack: (best name per face, index version)."""
    body = json.loads(stack.manage("identify", str(FACES / photo), "--json"))
    names = [f["matches"][0]["performer"]["name"] if f["matches"] else None for f in body["faces"]]
    return names, body["index_version"]


def test_a_build_killed_mid_write_leaves_the_previous_index_active_loadable_and_answering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models_or_skip()
    photos_or_skip()
    stack = stack_create(tmp_path / "stack")
    enroll(stack, REAL)  # makes the first build
    [(previous, _, _, _, previous_path)] = builds(stack)
    stack.python("stashsense.tests.fault.synthetic_gallery", str(SYNTHETIC_FACES))

    log = tmp_path / "build.log"
    build = stack.spawn([sys.executable, "manage.py", "build_index", "--kind", "exact"], log)
    try:
        wait_for(
            lambda: partial_files(stack) or build.poll() is not None,
            timeout=180,
            what="the second build to start writing its file",
            interval=0.002,
        )
        assert build.poll() is None, (
            f"the build finished before it could be killed:\n{log_tail(log)}"
        )
        os.killpg(build.pid, signal.SIGKILL)
    finally:
        returncode = process_stop(build, kill=True)
    assert returncode == -signal.SIGKILL
    leftovers = list(stack.index_dir.glob(".build-*.tmp"))
    with capsys.disabled():
        print(
            f"\nbuild_index killed mid-write, left: {[f'{p.name} ({p.stat().st_size} B)' for p in leftovers]}"
        )
    assert leftovers, "the build was not killed while writing"

    (first, second) = builds(stack)
    assert first == (previous, "done", True, REAL_FACES, previous_path)
    assert second[1:3] == ("running", False) and not Path(second[4]).exists()
    assert len(load_index(previous_path)) == REAL_FACES
    names, version = identify_names(stack, "obama/003.jpg")
    assert names[0] == "obama" and version.startswith(f"{stack.profile}:{previous}:")

    stack.manage("build_index", "--kind", "exact")

    newest = builds(stack)[-1]
    assert newest[1:4] == ("done", True, REAL_FACES + SYNTHETIC_FACES)
    rebuilt = load_index(newest[4])
    assert len(rebuilt) == REAL_FACES + SYNTHETIC_FACES
    face_id, embedding = stack.query(f"SELECT id, embedding FROM {FACE} ORDER BY id LIMIT 1")[0]  # noqa: S608
    labels, distances = rebuilt.query(np.frombuffer(embedding, dtype=np.float32), 1)
    assert int(labels[0][0]) == face_id and float(distances[0][0]) < 1e-3
