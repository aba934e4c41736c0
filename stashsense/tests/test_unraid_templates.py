"""The Unraid templates: ports, /data, the GPU variant, and only variables the server reads."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from stashsense.tests.documented_settings import README, REPO, configuration_rows, variables_read

TEMPLATES = {
    "cpu": REPO / "docker/unraid/stashsense.xml",
    "gpu": REPO / "docker/unraid/stashsense-gpu.xml",
}
# Read by the NVIDIA container runtime, not by the server.
NVIDIA_RUNTIME = {"NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES"}


def _configs(path: Path) -> tuple[ElementTree.Element, list[ElementTree.Element]]:
    root = ElementTree.parse(path).getroot()  # noqa: S314 - our own file, not user input
    assert root.tag == "Container"
    return root, root.findall("Config")


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_the_template_maps_the_port_and_data_and_describes_every_entry(kind: str) -> None:
    root, configs = _configs(TEMPLATES[kind])
    assert root.findtext("Repository") and root.findtext("WebUI", "").endswith(":8000]/dashboard/")
    by_type = {(c.get("Type"), c.get("Target")) for c in configs}
    assert ("Port", "8000") in by_type and ("Path", "/data") in by_type
    undescribed = [c.get("Target") for c in configs if not (c.get("Description") or "").strip()]
    assert not undescribed, f"{kind} template entries without a description: {undescribed}"
    assert all(c.get("Name") for c in configs)


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_variable_of_the_template_is_one_the_server_reads_and_documents(kind: str) -> None:
    _, configs = _configs(TEMPLATES[kind])
    variables = {str(c.get("Target")) for c in configs if c.get("Type") == "Variable"}
    assert {"PUID", "PGID", "STASHSENSE_PUBLIC_URL", "STASH_URL"} <= variables
    unknown = sorted(variables - set(variables_read()) - NVIDIA_RUNTIME)
    assert not unknown, f"the {kind} template sets variables the server never reads: {unknown}"
    undocumented = sorted(variables - configuration_rows() - NVIDIA_RUNTIME)
    assert not undocumented, f"README has no row for {undocumented}"


def test_the_gpu_template_runs_with_the_nvidia_runtime_and_the_gpu_image() -> None:
    cpu, cpu_configs = _configs(TEMPLATES["cpu"])
    gpu, gpu_configs = _configs(TEMPLATES["gpu"])
    assert "--runtime=nvidia" in (gpu.findtext("ExtraParams") or "")
    assert "--runtime=nvidia" not in (cpu.findtext("ExtraParams") or "")
    assert gpu.findtext("Repository") != cpu.findtext("Repository")
    gpu_targets = {c.get("Target") for c in gpu_configs}
    assert gpu_targets >= NVIDIA_RUNTIME
    assert {c.get("Target") for c in cpu_configs} == gpu_targets - NVIDIA_RUNTIME


def test_the_readme_points_at_both_templates() -> None:
    for path in TEMPLATES.values():
        assert str(path.relative_to(REPO)) in README
