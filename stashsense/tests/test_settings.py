from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]


def _start(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "STASH"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={**clean, "STASHSENSE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DATABASE_URL", "mysql-ish:/nowhere"),
        ("STASHSENSE_INFERENCE_CONCURRENCY", "lots"),
        ("STASH_URL", "ftp://stash"),
        ("STASHSENSE_TARGET_FAR", "1.5"),
        ("STASHSENSE_RECALIBRATE_GROWTH", "0"),
        ("DJANGO_SECRET_KEY", "change-me-to-a-long-random-string"),
        ("DJANGO_SECRET_KEY", "changeme"),
        ("STASHSENSE_LOG_LEVEL", "loud"),
    ],
)
def test_a_malformed_variable_stops_start_up_with_its_name(
    name: str, value: str, tmp_path: Path
) -> None:
    result = _start({name: value}, tmp_path)
    assert result.returncode != 0
    assert name in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_a_malformed_variable_stops_gunicorn_with_one_line_and_no_traceback(
    tmp_path: Path,
) -> None:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "STASH"))
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "stashsense.wsgi:application",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--control-socket",
            str(tmp_path / "gunicorn.ctl"),
        ],
        cwd=REPO,
        env={**clean, "STASHSENSE_DATA_DIR": str(tmp_path), "STASHSENSE_MAX_FACES": "lots"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "STASHSENSE_MAX_FACES is malformed" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_with_no_environment_a_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = _start({}, tmp_path)
    assert first.returncode == 0
    assert "System check identified no issues" in first.stdout, first.stdout + first.stderr
    key = (tmp_path / "secret_key").read_text()
    assert _start({}, tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key and len(key) > 40


@pytest.mark.django_db
def test_migrations_are_complete() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_processes_starting_together_share_one_generated_key(tmp_path: Path) -> None:
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
            cwd=REPO,
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STASH"))},
                "DJANGO_SETTINGS_MODULE": "stashsense.settings",
                "STASHSENSE_DATA_DIR": str(tmp_path),
            },
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    keys = {process.communicate(timeout=120)[0].strip() for process in starts}
    assert keys == {(tmp_path / "secret_key").read_text()}
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_a_malformed_variable_stops_celery_with_one_line_and_no_traceback(
    program: str, tmp_path: Path
) -> None:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "STASH"))
    }
    result = subprocess.run(
        [str(Path(sys.executable).with_name("celery")), "-A", "stashsense", program],
        cwd=REPO,
        env={**clean, "STASHSENSE_DATA_DIR": str(tmp_path), "STASHSENSE_MAX_FRAMES": "many"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "STASHSENSE_MAX_FRAMES is malformed" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
