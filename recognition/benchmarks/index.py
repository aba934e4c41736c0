"""The gallery index benchmark on a synthetic gallery: `manage.py bench_index`.

`run_index_benchmark` builds (or loads) an HNSW index and an exact one over a
`SyntheticGallery` and yields one record per step (the gallery, the build, the exact scan,
each search depth) with build rate, memory, latency, recall and identity agreement; the
command prints them as JSON lines.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recognition.benchmarks.synthetic_gallery import GallerySpec, SyntheticGallery
from recognition.index import (
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_M,
    ExactIndex,
    FaceIndex,
    FloatMatrix,
    Storage,
    set_blas_threads,
)


def resident_megabytes() -> float:
    """Current resident set size of this process, MB (peak RSS where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _percentile_ms(seconds: Sequence[float], percentile: float) -> float:
    return round(float(np.percentile(np.asarray(seconds) * 1e3, percentile)), 4)


def _single_query_latency(
    index: FaceIndex | ExactIndex, probes: FloatMatrix, k: int
) -> dict[str, float]:
    """Wall-clock and this thread's CPU time per single query, ms percentiles.

    On a shared machine wall time includes waiting for a core; CPU time is what one query
    costs once it has one.
    """
    wall, cpu = [], []
    for row in range(probes.shape[0]):
        started, started_cpu = time.perf_counter(), time.thread_time()
        index.query(probes[row : row + 1], k)
        wall.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
    return {
        "query_p50_ms": _percentile_ms(wall, 50),
        "query_p99_ms": _percentile_ms(wall, 99),
        "query_cpu_p50_ms": _percentile_ms(cpu, 50),
        "query_cpu_p99_ms": _percentile_ms(cpu, 99),
    }


@dataclass(frozen=True)
class IndexBenchmark:
    """One benchmark run: a gallery, one HNSW configuration, several search depths."""

    spec: GallerySpec
    queries: int = 1000
    k: int = 10
    M: int = DEFAULT_M
    ef_construction: int = DEFAULT_EF_CONSTRUCTION
    ef_search: Sequence[int] = (64, 128, 256)
    storage: Storage = "float32"
    hnsw: bool = True
    batch_size: int = 64
    blas_threads: int = 1
    # Keep the built graph here, or reuse it when the file exists (ef sweeps without rebuilds).
    index_file: Path | None = None


def run_index_benchmark(bench: IndexBenchmark) -> Iterator[dict[str, Any]]:
    """Yield result records: the gallery, the HNSW build, each ef, the exact scan."""
    blas_limited = set_blas_threads(bench.blas_threads)
    gallery = SyntheticGallery(bench.spec)
    spec = gallery.spec
    owners = np.empty(spec.faces, dtype=np.int64)
    for batch in gallery.batches():
        owners[batch.labels] = batch.identities
    probes, probe_people = gallery.probes(bench.queries)
    yield {
        "record": "gallery",
        "faces": spec.faces,
        "identities": int(np.unique(owners).shape[0]),
        "dim": spec.dim,
        "metric": spec.metric,
        "queries": bench.queries,
        "blas_threads": bench.blas_threads if blas_limited else "default",
    }
    hnsw: FaceIndex | None = None
    if bench.hnsw:
        hnsw, record = _build_hnsw(gallery, bench)
        yield record
    exact, record = _build_exact(gallery)
    truth_labels, _ = exact.query(probes, bench.k)
    record.update(_exact_timings(exact, probes, bench))
    record["probe_rank1"] = round(float(np.mean(owners[truth_labels[:, 0]] == probe_people)), 4)
    yield record
    if hnsw is not None:
        for ef in bench.ef_search:
            yield _hnsw_accuracy(hnsw, ef, probes, truth_labels, owners, probe_people, bench.k)


def _build_hnsw(
    gallery: SyntheticGallery, bench: IndexBenchmark
) -> tuple[FaceIndex, dict[str, Any]]:
    before = resident_megabytes()
    if bench.index_file is not None and bench.index_file.exists():
        started = time.perf_counter()
        loaded = FaceIndex.load(bench.index_file)
        if (len(loaded), loaded.dim, loaded.metric) != (
            gallery.spec.faces,
            gallery.spec.dim,
            gallery.spec.metric,
        ):
            raise ValueError(f"{bench.index_file} was built for another gallery")
        return loaded, {
            "record": "hnsw_loaded",
            "path": str(bench.index_file),
            "M": loaded.M,
            "ef_construction": loaded.ef_construction,
            "storage": loaded.storage,
            "faces": len(loaded),
            "load_seconds": round(time.perf_counter() - started, 2),
            "rss_delta_mb": round(resident_megabytes() - before, 1),
        }
    index = FaceIndex.create(
        gallery.spec.dim,
        gallery.spec.metric,
        M=bench.M,
        ef_construction=bench.ef_construction,
        storage=bench.storage,
    )
    adding = 0.0
    for batch in gallery.batches():
        started = time.perf_counter()
        index.add(batch.labels, batch.vectors)
        adding += time.perf_counter() - started
    record: dict[str, Any] = {
        "record": "hnsw_build",
        "M": bench.M,
        "ef_construction": bench.ef_construction,
        "storage": bench.storage,
        "build_seconds": round(adding, 2),
        "build_vectors_per_second": round(len(index) / adding),
        "rss_delta_mb": round(resident_megabytes() - before, 1),
    }
    record.update(_save_and_load_seconds(index, bench.index_file))
    return index, record


def _save_and_load_seconds(index: FaceIndex, keep_at: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        path = keep_at or Path(directory) / "bench.voy"
        started = time.perf_counter()
        index.save(path)
        saved = time.perf_counter() - started
        started = time.perf_counter()
        FaceIndex.load(path)
        loaded = time.perf_counter() - started
        size = path.stat().st_size
    return {
        "save_seconds": round(saved, 2),
        "load_seconds": round(loaded, 2),
        "file_mb": round(size / 1e6, 1),
    }


def _build_exact(gallery: SyntheticGallery) -> tuple[ExactIndex, dict[str, Any]]:
    before = resident_megabytes()
    index = ExactIndex.create(gallery.spec.dim, gallery.spec.metric, capacity=gallery.spec.faces)
    started = time.perf_counter()
    for batch in gallery.batches():
        index.add(batch.labels, batch.vectors)
    # Generation dominates this time; an exact "build" is a copy.
    return index, {
        "record": "exact",
        "build_seconds_with_generation": round(time.perf_counter() - started, 2),
        "rss_delta_mb": round(resident_megabytes() - before, 1),
        "matrix_mb": round(gallery.spec.faces * gallery.spec.dim * 4 / 1e6, 1),
    }


def _exact_timings(exact: ExactIndex, probes: FloatMatrix, bench: IndexBenchmark) -> dict[str, Any]:
    single = _single_query_latency(exact, probes[: min(200, probes.shape[0])], bench.k)
    request = probes[: bench.batch_size]
    batched = []
    for _ in range(5):
        started = time.perf_counter()
        exact.query(request, bench.k)
        batched.append(time.perf_counter() - started)
    return {
        **single,
        f"batch{bench.batch_size}_float32_ms": _percentile_ms(batched, 50),
        f"batch{bench.batch_size}_float16_product_ms": _float16_product_ms(exact, request),
    }


def _float16_product_ms(exact: ExactIndex, request: FloatMatrix) -> float:
    """The matrix product alone on a float16 copy (half the memory): is it worth storing?"""
    gallery16 = np.concatenate([vectors for _, vectors in exact.iter_batches()]).astype(np.float16)
    request16 = request.astype(np.float16)
    timings: list[float] = []
    while len(timings) < 3 and sum(timings) < 1.0:  # one run is enough when it takes seconds
        started = time.perf_counter()
        request16 @ gallery16.T
        timings.append(time.perf_counter() - started)
    return _percentile_ms(timings, 50)


def _hnsw_accuracy(
    hnsw: FaceIndex,
    ef: int,
    probes: FloatMatrix,
    truth_labels: npt.NDArray[np.int64],
    owners: npt.NDArray[np.int64],
    probe_people: npt.NDArray[np.int64],
    k: int,
) -> dict[str, Any]:
    hnsw.ef_search = ef
    single = _single_query_latency(hnsw, probes, k)
    found, _ = hnsw.query(probes, k)
    overlap = [
        np.intersect1d(found[row], truth_labels[row]).shape[0] / truth_labels.shape[1]
        for row in range(found.shape[0])
    ]
    return {
        "record": "hnsw_query",
        "ef": ef,
        **single,
        f"recall_at_{k}": round(float(np.mean(overlap)), 4),
        "top1_same_face_as_exact": round(float(np.mean(found[:, 0] == truth_labels[:, 0])), 4),
        "identity_agreement": round(
            float(np.mean(owners[found[:, 0]] == owners[truth_labels[:, 0]])), 4
        ),
        "probe_rank1": round(float(np.mean(owners[found[:, 0]] == probe_people)), 4),
    }
