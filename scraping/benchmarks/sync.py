"""Sync benchmarks against the local fake stash-box (no rate limit); `manage.py bench_sync`.

- `faces`: performers with photos are listed first with their photo work deferred, then W
  worker processes drain the run's items side by side (download, decode, detect, embed,
  store, outlier check, identity resolution). Models load and the fake's image cache is
  warmed before the clock starts; the number is faces embedded per second of wall time.
- `memory`: a full sync of many generated performers without photos, in a child process
  whose resident memory is sampled as it goes. Listing and upserts stream page by page, so
  the curve must stay flat.

Everything is written to a throwaway database (a SQLite file, or a Postgres database of its
own next to the configured one), never to the configured database.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from fakes import FakeStashBox
from performers.choices import SourceKind
from performers.models import Source
from recognition.configured_profile import profile_for
from recognition.engine.images import decode_image
from scraping.models import SyncItem, SyncRun
from scraping.services import sync_items_drain, sync_run_create, sync_run_execute
from scraping.sync.clients import clients_for

FACES = Path(settings.BASE_DIR).parent / "shared" / "faces"
UNLIMITED_RPM = 100_000_000


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh, migrated database for the length of the block; the configured one is untouched."""
    connection = connections["default"]
    old_name = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    folder = None
    if connection.vendor == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-sync-")
        test["NAME"] = os.path.join(folder, "bench.sqlite3")
    else:
        test["NAME"] = f"stashsense_bench_{os.getpid()}"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _source(endpoint: str, api_key: str) -> Source:
    return Source.objects.create(
        name="bench",
        kind=SourceKind.STASHBOX,
        url=endpoint,
        api_key=api_key,
        requests_per_minute=UNLIMITED_RPM,
    )


def _photo_sets(performers: int, per_performer: int) -> list[list[Path]]:
    """Distinct photos per performer (no photo in two galleries: no false duplicates)."""
    files = sorted(
        path
        for path in FACES.glob("*/*")
        if path.suffix.lower() in (".jpg", ".jpeg", ".png") and not path.parent.name.startswith("_")
    )
    usable = min(performers, len(files) // per_performer)
    return [files[n * per_performer : (n + 1) * per_performer] for n in range(usable)]


def bench_faces(
    *, performers: int, photos_each: int, workers: int, ort_threads: int
) -> dict[str, Any]:
    photo_sets = _photo_sets(performers, photos_each)
    with FakeStashBox() as box:
        for number, photos in enumerate(photo_sets):
            box.add_performer(f"Bench {number:03d}", images=photos)
        source = _source(box.endpoint, box.api_key)
        run = sync_run_create(source=source, full=True, max_photos=photos_each)
        listed = time.monotonic()
        run = sync_run_execute(run=run, dispatch="defer")
        listing_seconds = time.monotonic() - listed
        _warm_upstream(run)
        connections.close_all()  # children open their own
        context = multiprocessing.get_context("fork")
        ready = context.Barrier(workers + 1)
        results = context.Queue()
        processes = [
            context.Process(target=_drain, args=(run.pk, ort_threads, ready, results))
            for _ in range(workers)
        ]
        for process in processes:
            process.start()
        ready.wait(timeout=300)
        started = time.monotonic()
        machine_before, own_before = _machine_sample(), time.process_time()
        drained = [_result_of(processes, results) for _ in processes]
        seconds = max(finished for _, _, finished, _ in drained) - started
        machine_busy = _busy_fraction(machine_before, _machine_sample())
        upstream_cpu = time.process_time() - own_before  # the fake server's threads
        for process in processes:
            process.join(timeout=60)
    run.refresh_from_db()
    faces = sum(faces for _, faces, _, _ in drained)
    cpu_per_face = sum(cpu for _, _, _, cpu in drained) / faces if faces else None
    cores = min(workers, os.cpu_count() or 1)
    return {
        "bench": "faces",
        "workers": workers,
        "ort_threads_per_worker": ort_threads,
        "cpus": os.cpu_count(),
        "performers": len(photo_sets),
        "photos": sum(photos for photos, _, _, _ in drained),
        "faces": faces,
        "run_status": run.status,
        "listing_seconds": round(listing_seconds, 2),
        "seconds": round(seconds, 2),
        "faces_per_second": round(faces / seconds, 2) if seconds else None,
        # CPU time the workers spent per face, and what that allows with idle cores (the
        # wall-clock rate above also pays for whatever else the machine is running).
        "cpu_seconds_per_face": round(cpu_per_face, 3) if cpu_per_face else None,
        "faces_per_second_on_idle_cores": round(cores / cpu_per_face, 2) if cpu_per_face else None,
        # Where the rest of the machine went meanwhile: all CPUs busy (workers, database,
        # fake upstream, anything else), of which the fake upstream in this process.
        "machine_busy_fraction": machine_busy,
        "upstream_cpu_seconds": round(upstream_cpu, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _warm_upstream(run: SyncRun) -> None:
    """Fetch every photo once before the clock starts. A live stash-box scales an image down
    to `?size=` once and serves it from its cache, on a machine of its own; the fake runs on
    these cores, and its first scaling of each image is not work of ours to time."""
    clients = clients_for(run.source)
    try:
        for urls in SyncItem.objects.filter(run=run).values_list("photo_urls", flat=True):
            for url in urls:
                clients.fetch_photo(url)
    finally:
        clients.close()


def _drain(run_id: int, ort_threads: int, ready: Barrier, results: Any) -> None:
    """A worker process: load the models, wait for the others, drain the run's items."""
    settings.STASHSENSE_ORT_THREADS = ort_threads
    engine = profile_for()
    warm_up = next(FACES.glob("*/*.jpg"))
    engine.analyze(decode_image(warm_up.read_bytes(), max_pixels=40_000_000))
    ready.wait(timeout=300)
    cpu = time.process_time()
    photos, faces = sync_items_drain(run=SyncRun.objects.get(pk=run_id))
    results.put((photos, faces, time.monotonic(), time.process_time() - cpu))
    connections.close_all()


def bench_memory(*, performers: int, page_size: int, samples: int = 10) -> dict[str, Any]:
    with FakeStashBox() as box:
        box.add_generated_performers(performers, name_prefix="Generated")
        source = _source(box.endpoint, box.api_key)
        run = sync_run_create(source=source, full=True, images=False, page_size=page_size)
        connections.close_all()
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        every = max(1, performers // samples)
        child = context.Process(target=_sync_sampling_memory, args=(run.pk, every, results))
        child.start()
        measured = _result_of([child], results)
        child.join(timeout=60)
    run.refresh_from_db()
    curve = measured["rss_mib"]
    return {
        "bench": "memory",
        "performers": performers,
        "page_size": page_size,
        "run_status": run.status,
        "performers_new": run.performers_new,
        "seconds": measured["seconds"],
        "performers_per_second": round(performers / measured["seconds"], 1),
        "rss_mib_at": curve,
        "rss_growth_mib_first_to_last_sample": round(curve[-1][1] - curve[0][1], 1),
        # After the first tenth (imports, connections, caches warmed): the steady state.
        "rss_growth_mib_after_first_tenth": round(
            curve[-1][1] - curve[min(1, len(curve) - 1)][1], 1
        ),
        "peak_rss_mib": measured["peak_rss_mib"],
    }


def _sync_sampling_memory(run_id: int, every: int, results: Any) -> None:
    run = SyncRun.objects.get(pk=run_id)
    curve: list[tuple[int, float]] = [(0, _rss_mib())]

    def sample(done: int, total: int) -> None:
        if done % every == 0:
            curve.append((done, _rss_mib()))

    started = time.monotonic()
    sync_run_execute(run=run, progress=sample)
    results.put(
        {
            "seconds": round(time.monotonic() - started, 1),
            "rss_mib": curve,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    )
    connections.close_all()


def _result_of(processes: list[Any], results: Any) -> Any:
    """The next result a child puts; an error as soon as a child died without one."""
    while True:
        try:
            return results.get(timeout=1)
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(
                    f"a benchmark process failed (exit code {dead[0].exitcode}); see its output"
                ) from None


def _machine_sample() -> tuple[float | None, float]:
    return _machine_busy(), time.monotonic()


def _busy_fraction(
    before: tuple[float | None, float], after: tuple[float | None, float]
) -> float | None:
    """Share of all CPUs busy between two samples, over the samples' own window (the wait for
    the last result is in both parts), capped at 1: the kernel counts in clock ticks."""
    (busy_before, at_before), (busy_after, at_after) = before, after
    window = (at_after - at_before) * (os.cpu_count() or 1)
    if busy_before is None or busy_after is None or window <= 0:
        return None
    return round(min(1.0, (busy_after - busy_before) / window), 3)


def _machine_busy() -> float | None:
    """CPU-seconds all CPUs spent not idle since boot (Linux /proc/stat; None elsewhere)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:8]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0
