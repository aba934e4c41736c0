"""A real `manage.py import_bundle` killed mid-import: the old gallery serves, a re-run works."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from recognition.engine.profile_registry import DEFAULT_PROFILE
from stashsense.tests.fault.stack import (
    Stack,
    log_tail,
    models_or_skip,
    process_stop,
    stack_create,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.models]

# The gallery the consumer serves untold: the bundles carry the default profile, as every
# step of `bench_bundle` takes the serving one.
SEARCH_FIRST_FACE = (
    "import numpy as np; from recognition.models import Face, IndexBuild; "
    "from recognition.configured_profile import serving_profile; "
    "from recognition.searchable_gallery import gallery_for; "
    "face = Face.objects.order_by('pk').first(); "
    "hits = gallery_for(serving_profile()).search(np.frombuffer(bytes(face.embedding), "
    "dtype=np.float32)[None, :], 1); "
    "build = IndexBuild.objects.get(active=True); "
    "print('SERVING', build.pk, build.faces, hits[0][0].face_id == face.pk, "
    "hits[0][0].performer_id == str(face.performer_id), build.profile)"
)


def _serving(stack: Stack) -> list[str]:
    lines = [line for line in stack.manage("shell", "-c", SEARCH_FIRST_FACE).splitlines()]
    return next(line for line in lines if line.startswith("SERVING")).split()[1:]


def _bundles(tmp_path: Path) -> tuple[Path, Path]:
    """A small bundle, and a large one of the same publisher later on."""
    publisher = stack_create(tmp_path / "publisher")
    publisher.manage("bench_bundle", "fill", "--faces", "2000")
    publisher.manage("build_index")
    publisher.manage("export_bundle", str(tmp_path / "small.zip"))
    publisher.manage("bench_bundle", "fill", "--faces", "40000")
    publisher.manage("build_index")
    publisher.manage("export_bundle", str(tmp_path / "large.zip"))
    return tmp_path / "small.zip", tmp_path / "large.zip"


def test_an_import_killed_mid_way_leaves_the_old_gallery_and_a_rerun_applies_it(
    tmp_path: Path,
) -> None:
    models_or_skip()
    small, large = _bundles(tmp_path)
    consumer = stack_create(tmp_path / "consumer")
    consumer.manage("import_bundle", str(small))
    before = _serving(consumer)
    assert before[1:] == ["2000", "True", "True", DEFAULT_PROFILE]
    log = tmp_path / "import.log"
    process = consumer.spawn([sys.executable, "manage.py", "import_bundle", str(large)], log)
    wal = Path(f"{consumer.database}-wal")

    def writing_faces() -> bool:
        assert process.poll() is None, f"the import ended before it was killed:\n{log_tail(log)}"
        running = consumer.query(
            "SELECT count(*) FROM recognition_bundleimport WHERE status = 'running'"
        )
        return running[0][0] == 1 and wal.exists() and wal.stat().st_size > 30_000_000

    wait_for(writing_faces, timeout=120, what="the import to be writing faces", interval=0.02)
    os.killpg(process.pid, signal.SIGKILL)
    assert process_stop(process, kill=True) == -signal.SIGKILL

    assert _serving(consumer) == before
    builds = consumer.query("SELECT id, path FROM recognition_indexbuild WHERE active = 1")
    assert [str(builds[0][0])] == before[:1] and Path(builds[0][1]).is_file()
    assert consumer.query("SELECT count(*) FROM recognition_face")[0][0] == 2000

    output = consumer.manage("import_bundle", str(large))

    assert "applied full bundle" in output, output
    after = _serving(consumer)
    assert after[0] != before[0] and after[1:] == ["42000", "True", "True", DEFAULT_PROFILE]
    statuses = consumer.query("SELECT status FROM recognition_bundleimport ORDER BY id")
    assert [s for (s,) in statuses] == ["done", "failed", "done"]
