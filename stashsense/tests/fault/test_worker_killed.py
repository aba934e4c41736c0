"""A Celery worker killed in the middle of a task: the task is delivered again and done once.

The task is the real `recognition.index_update` (the one index writer): it appends faces
added since the active build to the index file and records the new high-water mark on the
build row. The kill lands while it writes the file, i.e. after the work began and before its
database effect, so a lost task would leave the row unchanged and a repeated one would run
twice. Settings under test: CELERY_TASK_ACKS_LATE (the message stays unacknowledged while the
task runs) and CELERY_TASK_REJECT_ON_WORKER_LOST (a dead pool process hands it back at once);
with the whole worker gone, Redis redelivers it after CELERY_VISIBILITY_TIMEOUT.

Runs against the machine's Redis, database 13 (flushed before and after); skipped without one.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import pytest
import redis
from celery import Celery

from recognition.index import load_index
from recognition.models import IndexBuild
from stashsense.tests.fault.stack import (
    Stack,
    log_tail,
    process_stop,
    stack_create,
    wait_for,
)

pytestmark = pytest.mark.redis

BROKER_DB = 13
VISIBILITY_TIMEOUT = 3
FIRST_FACES = 1_000
NEW_FACES = 100_000
QUEUE = "recognition"
TASK = "recognition.index_update"
SUCCEEDED = f"Task {TASK}["
BUILD = IndexBuild._meta.db_table


@pytest.fixture
def broker(redis_server: str) -> Iterator[str]:
    """The machine's Redis, database 13, empty: the broker of the workers under test."""
    url = urlsplit(redis_server)._replace(path=f"/{BROKER_DB}").geturl()
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def indexed(broker: str, tmp_path: Path) -> Stack:
    """A stack whose active index is missing NEW_FACES faces, so index_update has real work."""
    stack = stack_create(
        tmp_path / "stack",
        CELERY_BROKER_URL=broker,
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
    )
    synthetic = "stashsense.tests.fault.synthetic_gallery"
    stack.python(synthetic, str(FIRST_FACES), "--performers", "50", "--seed", "1")
    stack.manage("build_index", "--kind", "exact")
    stack.python(synthetic, str(NEW_FACES), "--performers", "500", "--seed", "2")
    return stack


@contextmanager
def worker(stack: Stack, name: str, *, pool: str) -> Iterator[tuple[int, Path]]:
    """`celery -A stashsense worker` on the recognition queue; (its pid, its log) once ready."""
    log = stack.data_dir / f"worker-{name}.log"
    process = stack.spawn(
        [
            *(sys.executable, "-m", "celery", "-A", "stashsense", "worker"),
            *("-Q", QUEUE, "--pool", pool, "--concurrency", "1", "-l", "info"),
            *("-n", f"{name}@fault-tests", "--without-gossip", "--without-mingle"),
            "--without-heartbeat",
        ],
        log,
    )
    try:
        wait_for(
            lambda: " ready." in log_tail(log, 100_000) or process.poll() is not None,
            timeout=90,
            what=f"worker {name} to start",
            interval=0.1,
        )
        assert process.poll() is None, f"worker {name} exited:\n{log_tail(log)}"
        yield process.pid, log
    finally:
        process_stop(process, kill=True)


def index_update_send(broker: str) -> None:
    # An explicit connection: Celery prefers a CELERY_BROKER_URL variable (CI sets one) over
    # the broker an app is given.
    with (
        Celery("fault-tests", set_as_current=False) as app,
        app.connection_for_write(broker) as connection,
    ):
        app.send_task(TASK, queue=QUEUE, connection=connection)


def active_build(stack: Stack) -> tuple[int, int, str]:
    """(faces, max_face_id, path) of the active build."""
    [(faces, max_face_id, path)] = stack.query(
        f"SELECT faces, max_face_id, path FROM {BUILD} WHERE active"  # noqa: S608
    )
    return int(faces), int(max_face_id), str(path)


def writing(stack: Stack) -> bool:
    """index_update has begun writing the new file (a temporary file with bytes in it)."""
    return any(p.stat().st_size > 0 for p in stack.index_dir.glob(".build-*.tmp"))


def child_pids(pid: int) -> list[int]:
    """Processes whose parent is `pid` (a prefork worker's pool processes)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
    return children


def assert_done_once(
    stack: Stack, broker: str, before: tuple[int, int, str], logs: list[Path]
) -> None:
    """Every new face indexed once, nothing left in Redis to deliver, one success logged."""
    faces, max_face_id, path = active_build(stack)
    assert faces == FIRST_FACES + NEW_FACES and max_face_id > before[1]
    index = load_index(path)
    assert len(index) == FIRST_FACES + NEW_FACES
    client = redis.Redis.from_url(broker)
    assert client.llen(QUEUE) == 0 and client.hlen("unacked") == 0
    texts = [log.read_text(errors="replace") for log in logs]
    successes = [
        line
        for text in texts
        for line in text.splitlines()
        if SUCCEEDED in line and " succeeded in " in line
    ]
    assert len(successes) == 1, "\n".join(text[-3000:] for text in texts)


def wait_until_updated(stack: Stack, broker: str, log: Path) -> None:
    client = redis.Redis.from_url(broker)
    wait_for(
        lambda: (
            active_build(stack)[0] == FIRST_FACES + NEW_FACES
            and client.hlen("unacked") == 0
            and client.llen(QUEUE) == 0
        ),
        timeout=120,
        what=f"the task to be done and acknowledged; worker log:\n{log_tail(log)}",
        interval=0.1,
    )


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds pool processes in /proc")
def test_a_pool_process_killed_mid_task_hands_it_back_and_it_completes_once(
    indexed: Stack, broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = active_build(indexed)
    with worker(indexed, "prefork", pool="prefork") as (pid, log):
        index_update_send(broker)
        wait_for(lambda: writing(indexed), timeout=60, what="the task to write", interval=0.002)
        [child] = child_pids(pid)
        os.kill(child, signal.SIGKILL)
        assert active_build(indexed) == before  # killed before its database effect
        wait_until_updated(indexed, broker, log)
        text = log.read_text(errors="replace")
    assert "signal 9" in text, text[-3000:]
    with capsys.disabled():
        print(f"\npool process {child} killed mid-write; the task ran again and completed")
    assert_done_once(indexed, broker, before, [log])


def test_a_worker_killed_mid_task_gets_its_task_redelivered_to_the_next_worker_once(
    indexed: Stack, broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = active_build(indexed)
    client = redis.Redis.from_url(broker)
    with worker(indexed, "first", pool="solo") as (pid, first_log):
        index_update_send(broker)
        wait_for(lambda: writing(indexed), timeout=60, what="the task to write", interval=0.002)
        os.killpg(pid, signal.SIGKILL)
    assert active_build(indexed) == before  # killed before its database effect
    assert client.hlen("unacked") == 1  # acks_late: the message is still held for the task
    held = cast(list[tuple[bytes, float]], client.zrange("unacked_index", 0, -1, withscores=True))
    delivered_at = float(held[0][1])
    time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT + 0.5 - time.time()))

    with worker(indexed, "second", pool="solo") as (_, second_log):
        wait_until_updated(indexed, broker, second_log)
    with capsys.disabled():
        print(
            f"\nworker killed mid-write; redelivered after the {VISIBILITY_TIMEOUT} s visibility timeout"
        )
    assert_done_once(indexed, broker, before, [first_log, second_log])
