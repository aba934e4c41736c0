"""The compose files are valid: `docker compose config` where a client exists, else the YAML."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def _compose(*files: str) -> dict:
    merged: dict = {}
    for name in files:
        document = yaml.safe_load((REPO / name).read_text())
        for key, value in document.items():
            if key == "services" and "services" in merged:
                for service, body in value.items():
                    merged["services"].setdefault(service, {}).update(body)
            elif not key.startswith("x-"):
                merged[key] = value
    return merged


def test_the_compose_file_runs_web_worker_beat_postgres_and_redis() -> None:
    services = _compose("docker-compose.yml")["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert "scraping,recognition" in " ".join(services["worker"]["command"])
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")


def test_the_gpu_override_reserves_an_nvidia_device_and_uses_onnxruntime_gpu() -> None:
    services = _compose("docker-compose.yml", "docker-compose.gpu.yml")["services"]
    for name in ("web", "worker"):
        devices = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
        assert services[name]["build"]["args"]["ONNXRUNTIME_GPU"]


def _has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not _has_compose(), reason="no docker client with the compose plugin")
def test_docker_compose_accepts_both_files(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=x\n")
    result = subprocess.run(
        [
            "docker",
            "compose",
            "--env-file",
            str(env),
            "-f",
            "docker-compose.yml",
            "-f",
            "docker-compose.gpu.yml",
            "config",
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
