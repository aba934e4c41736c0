"""A real Stash Sense outside the test process, run the way an operator runs it.

Each stack is a temporary data directory with its own file SQLite database; management
commands, gunicorn and Celery workers run as subprocesses of this Python with the stack's
environment. The test run's own DATABASE_URL, REDIS_URL and broker never reach a stack, so these
tests behave the same with no environment and on CI's Postgres + Redis.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

from recognition.engine.profile_registry import DEFAULT_PROFILE, available_profiles
from stashsense.http import OutboundClient, OutboundError

REPO_ROOT = Path(__file__).resolve().parents[3]
FACES = REPO_ROOT.parent / "shared" / "faces"
STACK_API_KEY = "ss_fault-tests-bootstrap-key"
# Variables the stack sets itself, so nothing of the test run's environment leaks into it.
_STACK_OWNED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_VISIBILITY_TIMEOUT",
    "STASHSENSE_DATA_DIR",
    "STASHSENSE_MODELS_DIR",
    "STASHSENSE_PROFILE",
    "STASHSENSE_API_KEY",
    "STASH_URL",
    "STASH_API_KEY",
    "STASHSENSE_IMAGE_URL_HOSTS",
    "STASHSENSE_CORS_ORIGINS",
    "DJANGO_DEBUG",
    "DJANGO_SETTINGS_MODULE",
)


def models_or_skip() -> Path:
    """The test run's models directory, or a skip saying how to get the models a stack
    serves with (the default profile's)."""
    models_dir = Path(settings.MODELS_DIR)
    if DEFAULT_PROFILE not in available_profiles(models_dir):
        pytest.skip(
            f"{DEFAULT_PROFILE} models missing under {models_dir}: run `manage.py fetch_models`"
        )
    return models_dir


def photos_or_skip() -> Path:
    if not FACES.is_dir():
        pytest.skip(f"the photo set {FACES} is not present")
    return FACES


@dataclass(frozen=True)
class Stack:
    """A data directory and the environment that points every subprocess at it."""

    data_dir: Path
    env: dict[str, str]

    @property
    def database(self) -> Path:
        return self.data_dir / "stashsense.sqlite3"

    @property
    def profile(self) -> str:
        """The profile the stack serves: its own STASHSENSE_PROFILE, else the default one (a
        stack never switches, so the newest index is always of this profile)."""
        return self.env.get("STASHSENSE_PROFILE") or DEFAULT_PROFILE

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index" / self.profile

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run `manage.py <args>` in the stack; its stdout, or an assertion error with its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, (
            f"manage.py {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        return result.stdout

    def python(self, module: str, *args: str, timeout: float = 300) -> str:
        """Run `python -m <module> <args>` in the stack (Django configured by the environment)."""
        result = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"{module} exited {result.returncode}:\n{result.stderr}"
        return result.stdout

    def spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        """Start a long-running process of the stack in its own process group, logging to `log`."""
        with log.open("ab") as handle:
            return subprocess.Popen(
                args,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the stack's database directly (read-only), as a second observer would."""
        uri = f"file:{self.database}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=20)) as connection:
            return connection.execute(sql, parameters).fetchall()


@contextmanager
def stack_database(label: str) -> Iterator[dict[str, str]]:
    """Where a stack keeps its rows: {} for the default file SQLite, or a DATABASE_URL.

    When the test run itself is on PostgreSQL (CI), the stack gets a throwaway database on the
    same server, so failures that only PostgreSQL has (it refuses text with a NUL character)
    show up under generated requests too. Dropped afterwards, connections or not.
    """
    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        yield {}
        return
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"stashsense_fault_{label}_{os.getpid()}"
    host = str(database.get("HOST") or "127.0.0.1")
    port = str(database.get("PORT") or 5432)
    user = str(database.get("USER") or "postgres")
    password = str(database.get("PASSWORD") or "")
    server = make_conninfo(
        "", dbname="postgres", host=host, port=port, user=user, password=password
    )
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    credentials = quote(user) + (f":{quote(password)}" if password else "")
    try:
        yield {"DATABASE_URL": f"postgres://{credentials}@{host}:{port}/{name}"}
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stack_create(data_dir: Path, **overrides: str) -> Stack:
    """A migrated stack in `data_dir`; `overrides` are extra environment variables."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {name: value for name, value in os.environ.items() if name not in _STACK_OWNED}
    env.update(
        DJANGO_SETTINGS_MODULE="stashsense.settings",
        STASHSENSE_DATA_DIR=str(data_dir),
        STASHSENSE_MODELS_DIR=str(settings.MODELS_DIR),
        DATABASE_URL=f"sqlite:///{data_dir / 'stashsense.sqlite3'}",
        STASHSENSE_API_KEY=STACK_API_KEY,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    stack = Stack(data_dir=data_dir, env=env)
    stack.manage("migrate", "--noinput")
    return stack


def enroll(stack: Stack, photos: Mapping[str, list[str]]) -> str:
    """`manage.py enroll` on a folder of links to photos of FACES, one folder per identity."""
    root = stack.data_dir / "photos"
    for identity, names in photos.items():
        folder = root / identity
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            link = folder / name
            if not link.exists():
                link.symlink_to(FACES / identity / name)
    return stack.manage("enroll", str(root))


def wait_for(
    condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll `condition` until it returns something truthy; fail saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def process_stop(process: subprocess.Popen[bytes], *, kill: bool = False) -> int:
    """Stop a process started by `Stack.spawn` and everything it forked (its process group)."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
    return int(process.returncode)


def log_tail(log: Path, characters: int = 4000) -> str:
    return log.read_text(errors="replace")[-characters:] if log.exists() else ""


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def gunicorn(stack: Stack, *, threads: int = 8) -> Iterator[Server]:
    """gunicorn as `make run` starts it (one worker, threads) on a free port of 127.0.0.1."""
    log = stack.data_dir / "gunicorn.log"
    process = stack.spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "stashsense.wsgi:application",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--threads",
            str(threads),
            "--timeout",
            "120",
            "--no-control-socket",
        ],
        log,
    )
    try:

        def listening() -> str | None:
            assert process.poll() is None, f"gunicorn exited:\n{log_tail(log)}"
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log_tail(log, 100_000))
            return found.group(1) if found else None

        url = wait_for(listening, timeout=60, what="gunicorn to listen")

        def healthy(probe: OutboundClient) -> bool:
            with suppress(OutboundError):
                return probe.get(f"{url}/api/v1/health").status == 200
            return False

        with OutboundClient(timeout=5, retries=0) as probe:
            wait_for(
                lambda: healthy(probe), timeout=60, what="/api/v1/health to answer", interval=0.2
            )
        yield Server(url=url, process=process, log=log)
    finally:
        process_stop(process)
