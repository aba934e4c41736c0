from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recognition.engine import ModelMissingError, available_profiles, get_profile
from recognition.engine.providers import choose_providers
from recognition.tests.engine.support import REPO_ROOT, models_dir


def test_importing_the_engine_loads_no_model() -> None:
    script = (
        "import sys, json; import recognition.engine; "
        "print(json.dumps(sorted(m for m in ('onnxruntime', 'insightface', 'dlib') "
        "if m in sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert json.loads(completed.stdout) == []


def test_a_missing_detector_raises_model_missing_naming_fetch_models(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match=r"manage\.py fetch_models"):
        get_profile("scrfd-dlib", tmp_path, threads=1)


@pytest.mark.models
def test_get_profile_loads_once_and_describes_itself() -> None:
    if "scrfd-dlib" not in available_profiles(models_dir()):
        pytest.skip("SCRFD model missing: run `manage.py fetch_models`")

    first = get_profile("scrfd-dlib", models_dir(), threads=2)
    second = get_profile("scrfd-dlib", models_dir(), threads=2)

    assert first is second
    description = first.describe()
    assert description["name"] == "scrfd-dlib" and description["dim"] == 128
    assert description["preprocessing"]["flip_average"] is True
    assert set(description["model_hashes"]) == {"detector", "shape_predictor", "recogniser"}
    json.dumps(description)
    assert first.providers()[-1] == "CPUExecutionProvider"


def test_providers_always_end_with_the_cpu() -> None:
    assert choose_providers()[-1] == "CPUExecutionProvider"
    assert choose_providers(["NoSuchExecutionProvider"]) == ["CPUExecutionProvider"]
