"""The compose files are valid: `docker compose config` where a client exists, else the YAML."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from stashsense.hosts import DEFAULT_ALLOWED_HOSTS, host_allowed

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


# --- what older Compose accepts, and the hosts the files name ---------------------------------

# The compose-spec's service keys (compose-spec/compose-spec schema/compose-spec.json): the
# published schema is no PyPI package, so this is the part of it these files can break.
SERVICE_KEYS = [
    "annotations",
    "attach",
    "build",
    "blkio_config",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "volumes",
    "volumes_from",
    "working_dir",
]
STRING_OR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
COMPOSE_SCHEMA = {
    "type": "object",
    "required": ["services"],
    "properties": {
        "services": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"anyOf": [{"enum": SERVICE_KEYS}, {"pattern": "^x-"}]},
                "properties": {
                    # docker-compose 1.29 refuses the {path, required} form (Compose 2.24+)
                    "env_file": STRING_OR_LIST,
                    "command": STRING_OR_LIST,
                    "environment": {
                        "type": "object",
                        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                    },
                    "depends_on": {
                        "oneOf": [
                            {"type": "array", "items": {"type": "string"}},
                            {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "object",
                                    "required": ["condition"],
                                    "properties": {
                                        "condition": {
                                            "enum": [
                                                "service_started",
                                                "service_healthy",
                                                "service_completed_successfully",
                                            ]
                                        }
                                    },
                                },
                            },
                        ]
                    },
                    "healthcheck": {
                        "type": "object",
                        "propertyNames": {
                            "enum": [
                                "disable",
                                "interval",
                                "retries",
                                "test",
                                "timeout",
                                "start_period",
                                "start_interval",
                            ]
                        },
                    },
                    "ports": {"type": "array", "items": {"type": ["string", "number"]}},
                    "volumes": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "volumes": {"type": ["object", "null"]},
    },
    "propertyNames": {
        "anyOf": [
            {"enum": ["services", "volumes", "networks", "secrets", "configs", "name"]},
            {"pattern": "^x-"},
        ]
    },
}
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.gpu.yml"]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_each_compose_file_passes_the_compose_spec_checks_that_older_compose_needs(
    name: str,
) -> None:
    document = yaml.safe_load((REPO / name).read_text())
    jsonschema.validate(document, COMPOSE_SCHEMA)
    assert "version" not in document  # the compose-spec form that 1.27+ reads


def test_the_schema_refuses_the_env_file_form_docker_compose_1_29_rejects() -> None:
    service = {"image": "x", "env_file": [{"path": ".env", "required": False}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"services": {"web": service}}, COMPOSE_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"services": {"web": {"imagee": "x"}}}, COMPOSE_SCHEMA)


def test_worker_and_beat_start_after_web_is_healthy_so_after_its_migrations() -> None:
    services = _compose("docker-compose.yml")["services"]
    assert "migrate" in (REPO / "Dockerfile").read_text().split("CMD", 2)[-1]
    assert "command" not in services["web"]  # the image's CMD: migrate, then gunicorn
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}, name
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def _hosts_that_reach_web() -> set[str]:
    """Every name or address the compose setup and its examples reach the web server by."""
    services = _compose("docker-compose.yml")["services"]
    hosts = {"web", *(str(h) for h in [services["web"].get("hostname")] if h)}
    hosts |= {
        urlsplit(word).netloc for word in services["web"]["healthcheck"]["test"] if "://" in word
    }
    example = dict(
        line.split("=", 1)
        for line in (REPO / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    hosts.add(urlsplit(example["STASHSENSE_PUBLIC_URL"]).netloc)
    assert example.get("DJANGO_ALLOWED_HOSTS", DEFAULT_ALLOWED_HOSTS) == DEFAULT_ALLOWED_HOSTS
    return hosts


def test_the_default_allowed_hosts_accept_every_host_the_compose_setup_names() -> None:
    hosts = _hosts_that_reach_web()
    assert {"web", "127.0.0.1:8000"} <= hosts
    refused = sorted(h for h in hosts if not host_allowed(h, [DEFAULT_ALLOWED_HOSTS]))
    assert not refused, f"the default DJANGO_ALLOWED_HOSTS refuses {refused}"
    compose = _compose("docker-compose.yml")["services"]["web"]["environment"]
    assert compose["DJANGO_ALLOWED_HOSTS"] == "${DJANGO_ALLOWED_HOSTS:-private}"


def test_the_compose_comment_names_every_value_it_reads_from_env() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    comment = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    read = set(re.findall(r"\$\{([A-Z_]+)", text))
    unnamed = sorted(name for name in read if name not in comment)
    assert not unnamed, f"the compose file's comment does not name {unnamed}"
    example = (REPO / ".env.example").read_text()
    assert not [n for n in read if f"{n}=" not in example], "every value is in .env.example"
