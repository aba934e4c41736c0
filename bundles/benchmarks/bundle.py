"""Bundle benchmark: export and import time and peak memory on synthetic galleries.

    manage.py bench_bundle run --faces 20000 100000

For each size `size_run` makes a publisher and a consumer data folder (file SQLite, or
databases on the Postgres server given with --postgres), fills the publisher with random faces
of the serving profile's dimension (on a fresh database the default profile, or
STASHSENSE_PROFILE), builds its index, exports a full bundle and imports it into the consumer,
all with that one profile, as a fresh publisher and consumer would. Every step
(`manage.py bench_bundle fill|index|export|import`, `run_phase` here) runs in its own process,
which reports its wall time, its resident memory before the work and its peak; the run prints
one JSON object per size. Memory that stays flat between sizes, apart from the vector index
itself (faces x dim x 4 bytes), means nothing else grows with the gallery. `fill` alone fills
the database the environment points at (used by the tests).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from django.conf import settings

from bundles.export import bundle_export
from bundles.importer import bundle_import
from performers.models import Performer, StashId
from recognition.configured_profile import profile_for, serving_profile
from recognition.models import Face
from recognition.services import index_build

BATCH = 5000
CROP_BYTES = 2500  # a 150 px JPEG face chip is 2-6 kB
PHASES = ("fill", "index", "export", "import")


@dataclass(frozen=True)
class Phase:
    """One step of the benchmark and what it needs: sizes to fill, a bundle to write or read."""

    name: str
    faces: int = 0
    performers: int = 1000
    out: Path | None = None
    path: Path | None = None


def gallery_fill(*, faces: int, performers: int, seed: int = 1) -> dict[str, Any]:
    """Add `performers` synthetic performers with a stash ID each and `faces` random faces of
    the serving profile; what was added (faces, profile, dim)."""
    profile = serving_profile()
    dim = profile_for(profile).dim
    rng = np.random.default_rng(seed)
    people = [
        Performer(name=f"Synthetic {seed}-{n}", normalized_name=f"synthetic {seed} {n}")
        for n in range(performers)
    ]
    Performer.objects.bulk_create(people, batch_size=BATCH)
    StashId.objects.bulk_create(
        [
            StashId(performer=p, endpoint="https://stashdb.org/graphql", stash_id=f"s-{p.pk}")
            for p in people
        ],
        batch_size=BATCH,
    )
    crop = rng.bytes(CROP_BYTES)
    added = 0
    while added < faces:
        count = min(BATCH, faces - added)
        vectors = (rng.standard_normal((count, dim)) / np.sqrt(dim)).astype(np.float32)
        owners = rng.integers(0, performers, size=count)
        Face.objects.bulk_create(
            [
                Face(
                    performer=people[owner],
                    profile=profile,
                    embedding=vector.tobytes(),
                    crop=crop,
                    box={"x": 0, "y": 0, "w": 150, "h": 150},
                    quality=0.8,
                )
                for owner, vector in zip(owners.tolist(), vectors, strict=True)
            ]
        )
        added += count
    return {"faces": added, "profile": profile, "dim": dim}


def run_phase(phase: Phase) -> dict[str, Any]:
    """One step in this process, on the database the environment configures."""
    profile_for().describe()  # models loaded before the baseline, as in a server
    baseline = _rss_mb()
    started = time.perf_counter()
    result: dict[str, Any] = _phase_work(phase)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["rss_before_mb"] = round(baseline, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def _phase_work(phase: Phase) -> dict[str, Any]:
    # Every step takes the serving profile: what a publisher and a consumer use untold.
    if phase.name == "fill":
        return gallery_fill(faces=phase.faces, performers=phase.performers)
    if phase.name == "index":
        return {"index_faces": index_build().faces}
    if phase.name == "export" and phase.out is not None:
        export = bundle_export(destination=phase.out)
        return {"bytes": Path(export.path).stat().st_size}
    if phase.name == "import" and phase.path is not None:
        record = bundle_import(path=phase.path)
        return {"faces": record.counts.get("faces_created", 0)}
    raise ValueError(f"unknown or incomplete phase {phase}")


def size_run(faces: int, postgres: str | None, workdir: Path) -> dict[str, Any]:
    """Fill, index and export a publisher of `faces` faces, import into a consumer; the report."""
    envs = {}
    for role in ("publisher", "consumer"):
        data_dir = workdir / f"{role}-{faces}"
        data_dir.mkdir(parents=True, exist_ok=True)
        url = _fresh_postgres(postgres, f"bundle_bench_{role}") if postgres else None
        envs[role] = _environment(data_dir, url)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=_repo_root(),
            env=envs[role],
            check=True,
        )
    bundle = workdir / f"bundle-{faces}.zip"
    performers = max(1, faces * 3 // 10)
    report: dict[str, Any] = {"faces": faces, "performers": performers}
    report["fill"] = _run(
        envs["publisher"], "fill", "--faces", str(faces), "--performers", str(performers)
    )
    dim = int(report["fill"]["dim"])
    report.update(profile=report["fill"]["profile"], dim=dim)
    report["index"] = _run(envs["publisher"], "index")
    report["export"] = _run(envs["publisher"], "export", "--out", str(bundle))
    report["import"] = _run(envs["consumer"], "import", "--path", str(bundle))
    report["index_mb"] = round(faces * dim * 4 / 1024 / 1024, 1)
    report["database"] = "postgres" if postgres else "sqlite"
    return report


def _repo_root() -> Path:
    return Path(settings.BASE_DIR)


def _environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="stashsense.settings",
        STASHSENSE_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url or f"sqlite:///{data_dir / 'stashsense.sqlite3'}",
    )
    env.setdefault("STASHSENSE_MODELS_DIR", str(_repo_root() / "var" / "models"))
    return env


def _run(env: dict[str, str], *args: str) -> dict[str, Any]:
    """One phase in a fresh process (its own peak memory); the JSON it printed last."""
    command = [sys.executable, "manage.py", "bench_bundle", *args]
    done = subprocess.run(
        command, cwd=_repo_root(), env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _fresh_postgres(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + "/" + name


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
