from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recognition.benchmarks.index import IndexBenchmark, run_index_benchmark
from recognition.benchmarks.synthetic_gallery import (
    GallerySpec,
    SyntheticGallery,
    pair_distance_summary,
)
from recognition.index import (
    BuildStats,
    ExactIndex,
    FaceIndex,
    IndexFileError,
    IndexParams,
    build_from_batches,
    create_index,
    load_index,
    write_atomically,
)


def _gallery(count: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)


def _labels(count: int, first: int = 1000) -> np.ndarray:
    # Not row positions, not contiguous from zero: like face primary keys after deletions.
    return np.arange(first, first + 3 * count, 3, dtype=np.int64)


@pytest.mark.parametrize("kind", ["hnsw", "exact"])
def test_query_returns_the_labels_and_true_distances_of_added_vectors(kind: str) -> None:
    vectors, labels = _gallery(200), _labels(200)
    index = create_index(16, "l2", IndexParams(kind=kind))  # type: ignore[arg-type]
    index.add(labels, vectors)

    found, distances = index.query(vectors[:5] + 0.01, k=3)

    assert found.shape == distances.shape == (5, 3)
    assert found.dtype == np.int64
    assert found[:, 0].tolist() == labels[:5].tolist()
    expected = np.linalg.norm(vectors[:5] + 0.01 - vectors[:5], axis=1)
    np.testing.assert_allclose(distances[:, 0], expected, rtol=1e-3, atol=1e-4)
    assert (np.diff(distances, axis=1) >= 0).all()


@pytest.mark.parametrize("kind", ["hnsw", "exact"])
def test_read_only_vectors_such_as_stored_embedding_bytes_are_accepted(kind: str) -> None:
    vectors, labels = _gallery(20), _labels(20)
    stored = np.frombuffer(vectors.tobytes(), dtype=np.float32).reshape(20, 16)
    assert not stored.flags.writeable
    index = create_index(16, "l2", IndexParams(kind=kind))  # type: ignore[arg-type]
    index.add(labels, stored)

    found, _ = index.query(stored[3:5], k=1)

    assert found[:, 0].tolist() == labels[3:5].tolist()


@pytest.mark.parametrize("kind", ["hnsw", "exact"])
def test_cosine_distance_is_one_minus_cosine_similarity(kind: str) -> None:
    index = create_index(2, "cosine", IndexParams(kind=kind))  # type: ignore[arg-type]
    index.add([7, 8], np.array([[1.0, 0.0], [0.0, 5.0]], dtype=np.float32))

    found, distances = index.query(np.array([[3.0, 3.0]], dtype=np.float32), k=2)

    assert sorted(found[0].tolist()) == [7, 8]
    np.testing.assert_allclose(distances[0], [1 - np.sqrt(0.5)] * 2, atol=1e-5)


@pytest.mark.parametrize("kind", ["hnsw", "exact"])
def test_k_larger_than_the_index_and_an_empty_index_give_narrower_results(kind: str) -> None:
    index = create_index(16, "l2", IndexParams(kind=kind))  # type: ignore[arg-type]
    labels, distances = index.query(_gallery(2), k=5)
    assert labels.shape == distances.shape == (2, 0)

    index.add(_labels(3), _gallery(3))
    labels, _ = index.query(_gallery(2, seed=1), k=5)
    assert labels.shape == (2, 3)
    assert sorted(labels[0].tolist()) == sorted(_labels(3).tolist())


@pytest.mark.parametrize("kind", ["hnsw", "exact"])
def test_removed_labels_are_never_returned_and_removal_is_idempotent(kind: str) -> None:
    vectors, labels = _gallery(50), _labels(50)
    index = create_index(16, "l2", IndexParams(kind=kind))  # type: ignore[arg-type]
    index.add(labels, vectors)

    assert index.remove(labels[:10]) == 10
    assert index.remove(labels[:10]) == 0
    assert index.remove([999_999]) == 0
    assert len(index) == 40
    found, _ = index.query(vectors[:10], k=40)
    assert found.shape == (10, 40)
    assert not set(found.ravel().tolist()) & set(labels[:10].tolist())

    found, _ = index.query(vectors[:1], k=100)
    assert found.shape == (1, 40)


@pytest.mark.parametrize("kind", ["hnsw", "exact"])
def test_adding_a_removed_label_again_brings_it_back_with_the_new_vector(kind: str) -> None:
    vectors, labels = _gallery(20), _labels(20)
    index = create_index(16, "l2", IndexParams(kind=kind))  # type: ignore[arg-type]
    index.add(labels, vectors)
    index.remove(labels[:1])

    index.add(labels[:1], vectors[1:2] * 3)

    assert len(index) == 20
    found, distances = index.query(vectors[1:2] * 3, k=1)
    assert found[0, 0] == labels[0]
    assert distances[0, 0] == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("kind", ["hnsw", "exact"])
def test_saved_index_loads_with_the_same_answers(kind: str, tmp_path: Path) -> None:
    vectors, labels = _gallery(300), _labels(300)
    index = create_index(16, "l2", IndexParams(kind=kind))  # type: ignore[arg-type]
    index.add(labels, vectors)
    index.remove(labels[:5])
    path = tmp_path / "gallery.index"

    index.save(path)
    loaded = load_index(path)

    assert type(loaded) is type(index)
    assert len(loaded) == 295
    assert loaded.dim == 16 and loaded.metric == "l2"
    expected = index.query(vectors[:20], k=5)
    actual = loaded.query(vectors[:20], k=5)
    np.testing.assert_array_equal(actual[0], expected[0])
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-6)
    assert loaded.remove(labels[:5]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["gallery.index"]


def test_a_crash_while_saving_leaves_the_previous_index_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gallery.voy"
    old = FaceIndex.create(16, "l2")
    old.add(_labels(10), _gallery(10))
    old.save(path)
    newer = FaceIndex.create(16, "l2")
    newer.add(_labels(50), _gallery(50, seed=3))

    def crash_half_way(self: FaceIndex, temporary_path: str) -> None:
        with open(temporary_path, "wb") as handle:
            handle.write(b"VOYA" + b"\0" * 100)
        raise OSError("disk full")

    monkeypatch.setattr(FaceIndex, "_write_to", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        newer.save(path)

    assert len(FaceIndex.load(path)) == 10
    assert [p.name for p in tmp_path.iterdir()] == ["gallery.voy"]


def test_write_atomically_replaces_the_file_only_when_writing_succeeded(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"

    def succeed(temporary: str) -> None:
        Path(temporary).write_bytes(b"first")

    write_atomically(path, succeed)

    def fail(temporary: str) -> None:
        Path(temporary).write_bytes(b"partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_atomically(path, fail)
    assert path.read_bytes() == b"first"
    assert len(list(tmp_path.iterdir())) == 1


def test_explicit_ids_keep_labels_right_when_adding_with_many_threads() -> None:
    vectors = _gallery(4000, dim=32, seed=5)
    labels = np.random.default_rng(1).choice(10**9, size=4000, replace=False).astype(np.int64)
    index = FaceIndex.create(32, "l2", M=8, ef_construction=40)

    index.add(labels, vectors, num_threads=4)

    stored = {
        int(label): vector
        for batch_labels, batch_vectors in index.iter_batches(batch_size=1000)
        for label, vector in zip(batch_labels, batch_vectors, strict=True)
    }
    assert sorted(stored) == sorted(labels.tolist())
    for label, vector in zip(labels.tolist(), vectors, strict=True):
        np.testing.assert_array_equal(stored[label], vector)


def test_exact_and_hnsw_agree_on_a_small_gallery() -> None:
    vectors, labels = _gallery(1000, dim=32, seed=7), _labels(1000)
    queries = _gallery(50, dim=32, seed=8)
    exact = ExactIndex.create(32, "l2")
    hnsw = FaceIndex.create(32, "l2", ef_search=200)
    exact.add(labels, vectors)
    hnsw.add(labels, vectors)

    exact_labels, exact_distances = exact.query(queries, k=5)
    hnsw_labels, hnsw_distances = hnsw.query(queries, k=5)

    np.testing.assert_array_equal(hnsw_labels, exact_labels)
    np.testing.assert_allclose(hnsw_distances, exact_distances, rtol=1e-4)


def test_exact_search_of_many_queries_matches_one_at_a_time() -> None:
    vectors, labels = _gallery(500, dim=8), _labels(500)
    exact = ExactIndex.create(8, "l2")
    exact.add(labels, vectors)
    queries = _gallery(64, dim=8, seed=2)

    together = exact.query(queries, k=4)
    alone = [exact.query(queries[row], k=4) for row in range(64)]

    np.testing.assert_array_equal(together[0], np.vstack([labels for labels, _ in alone]))


def test_build_from_batches_streams_and_switches_to_hnsw_past_the_exact_limit(
    tmp_path: Path,
) -> None:
    batches = [(_labels(100, first=1000 * b), _gallery(100, seed=b)) for b in range(5)]
    seen: list[int] = []

    small = build_from_batches(
        tmp_path / "small.index", 16, "l2", batches[:2], params=IndexParams(exact_below=1000)
    )
    large = build_from_batches(
        tmp_path / "large.index",
        16,
        "l2",
        iter(batches),
        params=IndexParams(exact_below=250),
        progress=seen.append,
    )

    assert isinstance(small, BuildStats) and small.kind == "exact" and small.vectors == 200
    assert large.kind == "hnsw" and large.vectors == 500
    assert seen == [100, 200, 300, 400, 500]
    loaded = load_index(tmp_path / "large.index")
    assert isinstance(loaded, FaceIndex)
    found, _ = loaded.query(batches[1][1][:3], k=1)
    assert found[:, 0].tolist() == batches[1][0][:3].tolist()
    assert isinstance(load_index(tmp_path / "small.index"), ExactIndex)


def test_bad_input_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    index = FaceIndex.create(4, "l2")
    with pytest.raises(ValueError, match="shape"):
        index.add([1], np.zeros((1, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="non-negative"):
        index.add([-1], np.zeros((1, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="unique"):
        index.add([1, 1], np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        index.add([1], np.full((1, 4), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="metric"):
        FaceIndex.create(4, "dot")  # type: ignore[arg-type]
    junk = tmp_path / "junk.index"
    junk.write_bytes(b"not an index")
    with pytest.raises(IndexFileError):
        load_index(junk)
    with pytest.raises(IndexFileError):
        load_index(tmp_path / "missing.index")


def test_e4m3_storage_keeps_the_nearest_neighbours() -> None:
    vectors, labels = _gallery(300, dim=32), _labels(300)
    index = FaceIndex.create(32, "l2", storage="e4m3")
    index.add(labels, vectors)

    found, _ = index.query(vectors[:20], k=1)

    assert index.storage == "e4m3"
    assert found[:, 0].tolist() == labels[:20].tolist()


def test_synthetic_gallery_has_dlib_like_distances_and_skewed_identities() -> None:
    gallery = SyntheticGallery(GallerySpec(faces=5000, seed=3))

    batches = list(gallery.batches())
    summary = pair_distance_summary(gallery, faces=1000)

    labels = np.concatenate([batch.labels for batch in batches])
    assert labels.tolist() == list(range(5000))
    _, faces_per_person = np.unique(
        np.concatenate([batch.identities for batch in batches]), return_counts=True
    )
    assert faces_per_person.min() >= 1 and faces_per_person.max() <= 10
    assert 0.2 < np.mean(faces_per_person == 1) < 0.4
    assert 0.38 < summary["same_mean"] < 0.48
    assert 0.78 < summary["different_mean"] < 0.9
    probes, people = gallery.probes(50)
    assert probes.shape == (50, 128) and set(people.tolist()) <= set(
        np.concatenate([batch.identities for batch in batches]).tolist()
    )


def test_index_benchmark_reports_agreement_with_exact_search() -> None:
    bench = IndexBenchmark(spec=GallerySpec(faces=3000), queries=30, ef_search=(200,))

    records = {record["record"]: record for record in run_index_benchmark(bench)}

    assert set(records) == {"gallery", "hnsw_build", "exact", "hnsw_query"}
    assert records["hnsw_query"]["identity_agreement"] >= 0.9
    assert records["exact"]["probe_rank1"] > 0.8
