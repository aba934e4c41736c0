"""The image, checked without a Docker daemon: what its build context holds, what its build
steps write, and how its entrypoint hands /data to the container's user."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

REPO = Path(__file__).resolve().parents[2]
THROWAWAY_KEY_NAME = "DJANGO_SECRET_KEY"

# What `COPY . .` must never send (issue 15): environments, local data, history, secrets.
FORBIDDEN = [
    ".venv/bin/python",
    "venv/bin/python",
    "var/secret_key",
    "var/stashsense.sqlite3",
    "var/models/scrfd/scrfd.onnx",
    "var/index/current.voy",
    ".git/HEAD",
    ".env",
    ".env.local",
    "node_modules/left-pad/index.js",
    "plugin/node_modules/left-pad/index.js",
    "stashsense/__pycache__/settings.cpython-311.pyc",
    ".mypy_cache/3.11/cache.json",
    ".ruff_cache/content",
    ".pytest_cache/v/cache/nodeids",
    "staticfiles/admin/css/base.css",
]
# What the image needs from the context.
NEEDED = [
    "manage.py",
    "requirements.txt",
    "requirements-insightface.txt",
    "docker/entrypoint.sh",
    "stashsense/settings.py",
    "static/stashsense",
    "templates/admin",
    "plugin/stash-sense",
    ".env.example",
]


def _dockerignore_patterns() -> list[str]:
    # The same reading as the docker SDK's and the CLI's: blank lines and # comments dropped.
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _context(root: Path) -> set[str]:
    return exclude_paths(str(root), _dockerignore_patterns(), dockerfile="Dockerfile")


def test_the_build_context_of_a_used_checkout_leaves_out_environments_data_and_secrets(
    tmp_path: Path,
) -> None:
    for name in FORBIDDEN + [f"{n}/x" if "." not in Path(n).name else n for n in NEEDED]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    sent = _context(tmp_path)
    leaked = sorted(name for name in FORBIDDEN if name in sent)
    assert not leaked, f".dockerignore lets these into the image: {leaked}"
    missing = sorted(name for name in NEEDED if not any(s.startswith(name) for s in sent))
    assert not missing, f".dockerignore keeps out what the image needs: {missing}"


def test_the_build_context_of_this_checkout_holds_no_git_ignored_file() -> None:
    sent = _context(REPO)
    ignored = subprocess.run(
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    leaked = sorted(s for s in sent for i in ignored if s == i.rstrip("/") or s.startswith(i))
    assert not leaked, f"the build context would send git-ignored files: {leaked[:20]}"
    assert "manage.py" in sent and "docker/entrypoint.sh" in sent
    assert not [s for s in sent if s == ".git" or s.startswith(".git/")]  # dir or worktree file


# --- the Dockerfile's build steps -------------------------------------------------------------


@dataclass
class Stage:
    name: str
    parent: str
    env: dict[str, str] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)
    instructions: list[tuple[str, str]] = field(default_factory=list)


def _instructions() -> list[tuple[str, str]]:
    logical: list[str] = []
    pending = ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in logical]


def _stages() -> list[Stage]:
    stages: list[Stage] = []
    for keyword, argument in _instructions():
        if keyword == "FROM":
            words = argument.split()
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name=name, parent=words[0]))
            continue
        stage = stages[-1]
        stage.instructions.append((keyword, argument))
        if keyword == "ENV":
            for pair in shlex.split(argument):
                key, _, value = pair.partition("=")
                stage.env[key] = value
        elif keyword == "RUN":
            stage.runs.append(argument)
        elif keyword == "COPY":
            stage.copies.append(argument)
    return stages


def _environment_of(stage: Stage, stages: list[Stage]) -> dict[str, str]:
    by_name = {s.name: s for s in stages}
    chain = [stage]
    while chain[-1].parent in by_name:
        chain.append(by_name[chain[-1].parent])
    merged: dict[str, str] = {}
    for link in reversed(chain):
        merged.update(link.env)
    return merged


def _manage_py_steps(run: str) -> list[tuple[dict[str, str], list[str]]]:
    """The `manage.py` commands of one RUN, each with the variables set inline before it."""
    steps = []
    for part in run.split("&&"):
        words = shlex.split(part)
        if "manage.py" not in words:
            continue
        inline = {}
        while words and "=" in words[0] and not words[0].startswith("-"):
            key, _, value = words.pop(0).partition("=")
            inline[key] = value
        steps.append((inline, words))
    return steps


def test_no_image_environment_sets_a_secret_key() -> None:
    for stage in _stages():
        assert THROWAWAY_KEY_NAME not in stage.env, f"ENV in stage {stage.name} bakes a key"


def test_every_build_step_that_reads_the_settings_keeps_its_key_and_data_out_of_data() -> None:
    steps = [step for stage in _stages() for run in stage.runs for step in _manage_py_steps(run)]
    assert len(steps) >= 2  # fetch_models in the models stage, collectstatic in the image
    for inline, command in steps:
        assert THROWAWAY_KEY_NAME in inline, f"{command} would generate /data/secret_key"
        assert inline.get("STASHSENSE_DATA_DIR", "/data").startswith("/tmp/"), command


def _under(root: Path, value: str) -> str:
    return str(root / value.lstrip("/")) if value.startswith("/") else value


def test_the_images_build_commands_write_no_secret_and_nothing_under_data(tmp_path: Path) -> None:
    stages = _stages()
    final = stages[-1]
    image_env = _environment_of(final, stages)
    outside = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "STASH", "REDIS_", "CELERY_"))
    }
    ran = 0
    for run in final.runs:
        for inline, command in _manage_py_steps(run):
            env = {key: _under(tmp_path, value) for key, value in {**image_env, **inline}.items()}
            argv = [sys.executable if word == "python" else word for word in command]
            result = subprocess.run(
                argv,
                cwd=REPO,
                env={**outside, **env},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr
            ran += 1
    assert ran, "the image runs no manage.py command at build time"
    secrets = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*secret_key*"))
    assert not secrets, f"a build step wrote a key: {secrets}"
    data = tmp_path / image_env["STASHSENSE_DATA_DIR"].lstrip("/")
    assert not data.exists() or not any(data.iterdir()), sorted(data.iterdir())
    static = tmp_path / image_env["STASHSENSE_STATIC_ROOT"].lstrip("/")
    assert (static / "admin").is_dir(), "collectstatic wrote nothing into STASHSENSE_STATIC_ROOT"


def test_the_models_are_fetched_in_a_build_stage_and_copied_into_the_image() -> None:
    stages = _stages()
    final, models_dir = stages[-1], _environment_of(stages[-1], stages)["STASHSENSE_MODELS_DIR"]
    fetching = [s for s in stages if any("fetch_models" in run for run in s.runs)]
    assert fetching and fetching[0] is not final
    assert _environment_of(fetching[0], stages)["STASHSENSE_MODELS_DIR"] == models_dir
    assert any(f"--from={fetching[0].name} {models_dir}" in copy for copy in final.copies)
    start = dict(final.instructions)["CMD"]
    assert "fetch_models" not in start and "migrate" in start


def test_the_gpu_build_installs_onnxruntime_gpu_with_its_cuda_and_cudnn_wheels() -> None:
    runs = " ".join(run for stage in _stages() for run in stage.runs)
    assert 'pip install "onnxruntime-gpu[cuda,cudnn]==$ONNXRUNTIME_GPU"' in runs


# --- the entrypoint ---------------------------------------------------------------------------

ENTRYPOINT = REPO / "docker" / "entrypoint.sh"
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv"
)


def _entrypoint(data: Path, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *command],
        env={"PATH": os.environ["PATH"], "STASHSENSE_DATA_DIR": str(data), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _reachable_by_anyone(path: Path) -> None:
    """pytest's folders are root's alone: the user the entrypoint becomes must reach them."""
    for folder in [path, *path.parents]:
        if folder == Path(tempfile.gettempdir()):
            break
        folder.chmod(folder.stat().st_mode | 0o755)


@needs_root
def test_the_entrypoint_hands_data_to_puid_and_runs_the_command_as_that_user(
    tmp_path: Path,
) -> None:
    _reachable_by_anyone(tmp_path)
    data = tmp_path / "data"
    (data / "index").mkdir(parents=True)
    (data / "index" / "old.voy").write_text("x")  # left by `docker exec` as root
    os.chown(data, 99, 1000)
    os.chown(data / "index", 99, 1000)
    result = _entrypoint(data, "sh", "-c", "id -u; id -g; touch $0/written", str(data), PUID="99")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["99", "1000"]
    for path in (data, data / "index" / "old.voy", data / "written"):
        assert path.stat().st_uid == 99, path


@needs_root
def test_the_entrypoint_refuses_a_puid_that_is_not_a_number(tmp_path: Path) -> None:
    result = _entrypoint(tmp_path, "true", PUID="nobody")
    assert result.returncode == 2
    assert "PUID and PGID must be numbers" in result.stderr


@needs_root
def test_the_entrypoint_started_as_another_user_only_runs_the_command(tmp_path: Path) -> None:
    _reachable_by_anyone(tmp_path)
    tmp_path.chmod(0o777)
    result = subprocess.run(
        [
            "setpriv",
            "--reuid=4242",
            "--regid=4242",
            "--clear-groups",
            "sh",
            str(ENTRYPOINT),
            "sh",
            "-c",
            "id -u",
        ],
        env={"PATH": os.environ["PATH"], "STASHSENSE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "4242\n"
    assert tmp_path.stat().st_uid == 0  # not root: no chown attempted
