"""`manage.py bench_sync` runs end to end on a few performers and reports what it measured."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from performers.models import Performer
from scraping.tests.test_sync_support import needs_specs


@needs_specs
@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_faces_benchmark_syncs_in_a_scratch_database_and_summarises_repeats(
    faces_dir: Path, face_models: None
) -> None:
    if connection.vendor != "postgresql":
        # Under pytest SQLite is an in-memory database that forked workers cannot open (the
        # command itself runs on SQLite files; CI runs this on PostgreSQL).
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")
    out = StringIO()
    call_command(
        "bench_sync",
        "--only",
        "faces",
        "--workers",
        "2",
        "--photo-performers",
        "3",
        "--repeat",
        "2",
        stdout=out,
    )

    runs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [run["bench"] for run in runs] == ["faces", "faces", "faces_summary"]
    for run in runs[:2]:
        assert run["run_status"] == "done" and run["workers"] == 2
        assert run["performers"] == 3 and run["photos"] == 6 and run["faces"] >= 5
        assert run["faces_per_second"] > 0 and 0 < run["machine_busy_fraction"] <= 1.0
    rates = sorted(run["faces_per_second"] for run in runs[:2])
    assert runs[2]["faces_per_second_min"] == rates[0]
    assert runs[2]["faces_per_second_median"] == round(sum(rates) / 2, 2)
    assert not Performer.objects.exists()  # the configured database was never written
