"""The throughput benchmark really runs the engine in worker processes (numbers not asserted)."""

from __future__ import annotations

import pytest

from recognition.benchmarks.engine import benchmark_throughput
from recognition.engine.fetch import scrfd_model_path
from recognition.tests.engine.support import FACES, faces_or_skip, models_dir

pytestmark = pytest.mark.models


def test_the_throughput_run_counts_every_face_its_workers_embedded() -> None:
    if not scrfd_model_path(models_dir()).is_file():
        pytest.skip("models not fetched")
    photos = [faces_or_skip(FACES) / "obama" / "001.jpg", FACES / "biden" / "001.jpg"]

    result = benchmark_throughput("scrfd-dlib", models_dir(), photos, processes=2, rounds=2)

    assert result["photos"] == 4 and result["faces"] == 4  # one portrait face each, all rounds
    assert result["processes"] == 2 and result["faces_per_second"] > 0
