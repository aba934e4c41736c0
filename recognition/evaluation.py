"""Measure a profile + decision rule on labelled photos (pure: no Django, no database).

Open-set protocol (`evaluate_directory`), one folder per identity, files sorted by name: the
first photo of an identity with two or more is its gallery face, the others are probes that
must be named; an identity with a single photo is an outsider that must come back unknown.
When the folder has a `labels.csv` (`path,identity,...`) it decides which files count;
identities starting with `_` (group photos, videos) are left out.

`evaluate_pairs` runs LFW's 10-fold verification protocol on a `pairs.txt`.
"""

from __future__ import annotations

import base64
import csv
import html
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recognition.engine.detector import primary_face_index
from recognition.engine.errors import ImageError
from recognition.engine.images import decode_image
from recognition.engine.profile import Profile
from recognition.engine.types import FaceQuality
from recognition.scoring import (
    DEFAULT_TOP_K,
    Calibrator,
    IdentityMatch,
    decision_features,
    default_calibrator,
    rank_identities,
)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
DEFAULT_NEIGHBOURS = 50
MAX_IMAGE_PIXELS = 40_000_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FaceRecord:
    """The face a labelled photo is of (its largest central face), or none found."""

    path: Path
    embedding: npt.NDArray[np.float32] | None
    quality: FaceQuality | None
    crop_jpeg: bytes | None
    faces_found: int


@dataclass
class EmbeddingCache:
    """Embeddings computed during one run, so calibration and evaluation embed once."""

    profile: Profile
    records: dict[Path, FaceRecord] = field(default_factory=dict)

    def record(self, path: Path) -> FaceRecord:
        cached = self.records.get(path)
        if cached is None:
            cached = embed_primary_face(self.profile, path)
            self.records[path] = cached
        return cached

    def records_for(self, paths: list[Path], progress: Progress | None = None) -> list[FaceRecord]:
        records = []
        for done, path in enumerate(paths, start=1):
            records.append(self.record(path))
            if progress is not None:
                progress(done, len(paths))
        return records


def embed_primary_face(profile: Profile, path: Path) -> FaceRecord:
    try:
        image = decode_image(path.read_bytes(), max_pixels=MAX_IMAGE_PIXELS)
    except (ImageError, OSError):
        return FaceRecord(path, None, None, None, 0)
    faces = profile.analyze(image)
    height, width = image.shape[:2]
    index = primary_face_index([face.detection for face in faces], width, height)
    if index is None:
        return FaceRecord(path, None, None, None, 0)
    face = faces[index]
    return FaceRecord(path, face.embedding, face.quality, face.crop_jpeg, len(faces))


# --- the open-set protocol ---------------------------------------------------------------


@dataclass(frozen=True)
class OpenSetSplit:
    gallery: list[tuple[str, Path]]
    probes: list[tuple[str, Path]]
    distractors: list[tuple[str, Path]]


def list_identities(root: Path) -> dict[str, list[Path]]:
    """Identity → its photos sorted by file name (labels.csv when present, else folders)."""
    identities: dict[str, list[Path]] = {}
    labels = root / "labels.csv"
    if labels.is_file():
        with labels.open(newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                path = root / row["path"]
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    identities.setdefault(row["identity"], []).append(path)
    else:
        for folder in sorted(root.iterdir()):
            if folder.is_dir():
                photos = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
                if photos:
                    identities[folder.name] = photos
    return {
        name: sorted(paths, key=lambda path: path.name)
        for name, paths in sorted(identities.items())
        if not name.startswith(("_", "."))
    }


def split_open_set(identities: dict[str, list[Path]]) -> OpenSetSplit:
    gallery: list[tuple[str, Path]] = []
    probes: list[tuple[str, Path]] = []
    distractors: list[tuple[str, Path]] = []
    for name, paths in identities.items():
        if len(paths) == 1:
            distractors.append((name, paths[0]))
        else:
            gallery.append((name, paths[0]))
            probes.extend((name, path) for path in paths[1:])
    return OpenSetSplit(gallery, probes, distractors)


@dataclass
class _Gallery:
    keys: list[str]
    embeddings: npt.NDArray[np.float32]
    metric: str

    def nearest(self, embedding: npt.NDArray[np.float32], count: int) -> tuple[list[str], Any]:
        if self.metric == "cosine":
            distances = 1.0 - self.embeddings @ embedding
        else:
            distances = np.linalg.norm(self.embeddings - embedding, axis=1)
        order = np.argsort(distances, kind="stable")[:count]
        return [self.keys[index] for index in order], distances[order]


def _build_gallery(
    profile: Profile, split: OpenSetSplit, cache: EmbeddingCache, progress: Progress | None
) -> _Gallery:
    """Embed every photo of the split (reporting progress), return the gallery part."""
    everything = split.gallery + split.probes + split.distractors
    cache.records_for([path for _, path in everything], progress)
    present = [
        (name, record.embedding)
        for name, record in ((name, cache.record(path)) for name, path in split.gallery)
        if record.embedding is not None
    ]
    matrix = np.vstack([row for _, row in present]) if present else np.zeros((0, profile.dim))
    return _Gallery(
        keys=[key for key, _ in present],
        embeddings=np.asarray(matrix, dtype=np.float32),
        metric=profile.metric,
    )


def evaluate_directory(
    profile: Profile,
    root: Path,
    *,
    calibrator: Calibrator | None = None,
    top_k: int = DEFAULT_TOP_K,
    threshold: float | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the open-set protocol on `root`; fractions are 0..1 (see module docstring).

    rank1: probes whose person is named first (confidence over the threshold);
    distractor_accept_rate: outsiders named as anyone; precision: named answers that are
    right; tar_at_far_*: best rank-1 reachable while that share of outsiders is accepted.
    """
    calibrator = calibrator or default_calibrator(profile.name, profile.metric)
    cache = cache or EmbeddingCache(profile)
    split = split_open_set(list_identities(root))
    gallery = _build_gallery(profile, split, cache, progress)
    probe_outcomes, distractor_outcomes = (
        [
            _identify(cache.record(path), name, gallery, calibrator, top_k, threshold, neighbours)
            for name, path in photos
        ]
        for photos in (split.probes, split.distractors)
    )
    outcomes = probe_outcomes + distractor_outcomes
    result = _summarize(probe_outcomes, distractor_outcomes)
    result.update(
        {
            "profile": profile.name,
            "root": str(root),
            "threshold": calibrator.threshold if threshold is None else threshold,
            "calibration": calibrator.to_dict(),
            "counts": {
                "identities": len(split.gallery),
                "gallery_faces": len(gallery.keys),
                "probes": len(split.probes),
                "distractors": len(split.distractors),
                "no_face": sum(1 for outcome in outcomes if outcome.no_face),
            },
        }
    )
    return result


@dataclass(frozen=True)
class _Outcome:
    path: Path
    expected: str
    matches: list[IdentityMatch]
    top: IdentityMatch | None
    no_face: bool
    crop_jpeg: bytes | None


def _identify(
    record: FaceRecord,
    expected: str,
    gallery: _Gallery,
    calibrator: Calibrator,
    top_k: int,
    threshold: float | None,
    neighbours: int,
) -> _Outcome:
    if record.embedding is None or not gallery.keys:
        return _Outcome(record.path, expected, [], None, True, None)
    keys, distances = gallery.nearest(record.embedding, neighbours)
    ranked = rank_identities(keys, distances, calibrator=calibrator, top_k=top_k, threshold=0.0)
    minimum = calibrator.threshold if threshold is None else threshold
    named = [match for match in ranked if match.confidence >= minimum]
    return _Outcome(
        record.path, expected, named, ranked[0] if ranked else None, False, record.crop_jpeg
    )


def _summarize(probes: list[_Outcome], distractors: list[_Outcome]) -> dict[str, Any]:
    def named_first(outcome: _Outcome) -> Hashable | None:
        return outcome.matches[0].performer_key if outcome.matches else None

    correct = sum(1 for outcome in probes if named_first(outcome) == outcome.expected)
    wrong_probes = sum(
        1 for outcome in probes if named_first(outcome) not in (None, outcome.expected)
    )
    accepted_distractors = sum(1 for outcome in distractors if outcome.matches)
    named = correct + wrong_probes + accepted_distractors
    closed = sum(
        1 for outcome in probes if outcome.top and outcome.top.performer_key == outcome.expected
    )
    genuine = [
        outcome.top.confidence
        for outcome in probes
        if outcome.top and outcome.top.performer_key == outcome.expected
    ]
    distractor_scores = [outcome.top.confidence for outcome in distractors if outcome.top]
    misranked_scores = [
        outcome.top.confidence
        for outcome in probes
        if outcome.top and outcome.top.performer_key != outcome.expected
    ]
    roc = identification_roc(genuine, distractor_scores, len(probes), len(distractors))
    return {
        "rank1": _fraction(correct, len(probes)),
        "closed_set_rank1": _fraction(closed, len(probes)),
        "distractor_accept_rate": _fraction(accepted_distractors, len(distractors)),
        "precision": _fraction(correct, named),
        "recall": _fraction(correct, len(probes)),
        "tar_at_far_1pct": tar_at_far(roc, 0.01),
        "tar_at_far_0_1pct": tar_at_far(roc, 0.001),
        "correct": correct,
        "wrong": wrong_probes,
        "distractors_accepted": accepted_distractors,
        "roc": roc,
        "genuine_scores": [round(value, 5) for value in genuine],
        "impostor_scores": [round(value, 5) for value in distractor_scores + misranked_scores],
        "failures": [
            _failure(outcome) for outcome in probes if named_first(outcome) != outcome.expected
        ]
        + [_failure(outcome) for outcome in distractors if outcome.matches],
    }


def _failure(outcome: _Outcome) -> dict[str, Any]:
    first = outcome.matches[0] if outcome.matches else None
    return {
        "path": str(outcome.path),
        "expected": outcome.expected,
        "named": first.performer_key if first else None,
        "nearest": outcome.top.performer_key if outcome.top else None,
        "confidence": round(outcome.top.confidence, 4) if outcome.top else None,
        "distance": round(outcome.top.distance, 4) if outcome.top else None,
        "no_face": outcome.no_face,
        "crop": _data_uri(outcome.crop_jpeg),
    }


def identification_roc(
    genuine: list[float], impostor: list[float], probes: int, distractors: int
) -> list[dict[str, float]]:
    """(far, tar, threshold) points, accepting a top-1 answer when confidence >= threshold.

    tar counts probes named correctly among all probes; far counts outsiders named as anyone
    among all outsiders.
    """
    thresholds = sorted(set(genuine) | set(impostor), reverse=True)
    genuine_sorted = np.sort(np.asarray(genuine, dtype=np.float64))
    impostor_sorted = np.sort(np.asarray(impostor, dtype=np.float64))
    points = [{"far": 0.0, "tar": 0.0, "threshold": math.inf}]
    for value in thresholds:
        tar = (genuine_sorted.size - np.searchsorted(genuine_sorted, value)) / max(1, probes)
        far = (impostor_sorted.size - np.searchsorted(impostor_sorted, value)) / max(1, distractors)
        points.append({"far": float(far), "tar": float(tar), "threshold": float(value)})
    return points


def tar_at_far(roc: list[dict[str, float]], far: float) -> float:
    """Highest tar among the ROC points whose far does not exceed `far`."""
    return max((point["tar"] for point in roc if point["far"] <= far + 1e-12), default=0.0)


def fit_calibration(
    profile: Profile,
    root: Path,
    *,
    target_far: float = 0.01,
    threshold: float | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
) -> Calibrator:
    """Fit a Calibrator (and its threshold for `target_far`) on a labelled directory.

    Genuine samples: probes whose person is the nearest identity. Impostor samples: every
    outsider's nearest identity, and probes whose nearest identity is someone else.
    `threshold` fixes the acceptance confidence instead of deriving it from `target_far`.
    """
    cache = cache or EmbeddingCache(profile)
    split = split_open_set(list_identities(root))
    gallery = _build_gallery(profile, split, cache, progress)
    rows, labels = [], []
    for photos, known in ((split.probes, True), (split.distractors, False)):
        for name, path in photos:
            record = cache.record(path)
            if record.embedding is None or not gallery.keys:
                continue
            keys, distances = gallery.nearest(record.embedding, neighbours)
            top, features = decision_features(keys, distances)
            rows.append(features)
            labels.append(1.0 if known and top == name else 0.0)
    return Calibrator.fit(
        np.vstack(rows),
        np.asarray(labels),
        target_far=target_far,
        metric=profile.metric,
        threshold=threshold,
    )


# --- LFW pairs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    first: Path
    second: Path
    same: bool
    fold: int


def read_lfw_pairs(pairs_file: Path, root: Path) -> list[_Pair]:
    """Parse LFW's pairs.txt: a header "folds per_fold" (or one count for a single fold),
    then per fold `per_fold` matched lines "name i j" and `per_fold` mismatched lines
    "name1 i name2 j"."""
    lines = [line.split() for line in pairs_file.read_text().splitlines() if line.strip()]
    header = [int(value) for value in lines[0]]
    folds, per_fold = (header[0], header[1]) if len(header) == 2 else (1, header[0])
    pairs = []
    for position, fields in enumerate(lines[1:]):
        fold = min(position // (2 * per_fold), folds - 1)
        if len(fields) == 3:
            name, first, second = fields
            pairs.append(
                _Pair(_lfw_path(root, name, first), _lfw_path(root, name, second), True, fold)
            )
        elif len(fields) == 4:
            name_a, first, name_b, second = fields
            pairs.append(
                _Pair(_lfw_path(root, name_a, first), _lfw_path(root, name_b, second), False, fold)
            )
        else:
            raise ValueError(f"{pairs_file}: cannot read line {position + 2}: {' '.join(fields)}")
    return pairs


def _lfw_path(root: Path, name: str, number: str) -> Path:
    return root / name / f"{name}_{int(number):04d}.jpg"


def evaluate_pairs(
    profile: Profile,
    pairs_file: Path,
    root: Path,
    *,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """LFW verification: per fold, the distance threshold that is best on the other folds.

    A pair where either photo has no detected face counts as a wrong answer.
    """
    cache = cache or EmbeddingCache(profile)
    pairs = read_lfw_pairs(pairs_file, root)
    unique = sorted({path for pair in pairs for path in (pair.first, pair.second)})
    cache.records_for(unique, progress)
    distances = np.array([_pair_distance(profile, cache, pair) for pair in pairs])
    same = np.array([pair.same for pair in pairs])
    folds = np.array([pair.fold for pair in pairs])
    accuracies, thresholds = [], []
    for fold in sorted(set(folds.tolist())):
        train = folds != fold if len(set(folds.tolist())) > 1 else np.ones_like(same)
        threshold = _best_threshold(distances[train], same[train])
        test = folds == fold
        accuracies.append(float(np.mean((distances[test] < threshold) == same[test])))
        thresholds.append(threshold)
    finite = np.isfinite(distances)
    similarity = 1.0 - distances
    return {
        "profile": profile.name,
        "pairs": len(pairs),
        "accuracy": float(np.mean(accuracies)),
        "std": float(np.std(accuracies)),
        "folds": accuracies,
        "thresholds": thresholds,
        "missing_faces": int((~finite).sum()),
        "genuine_scores": [round(float(v), 5) for v in similarity[same & finite]],
        "impostor_scores": [round(float(v), 5) for v in similarity[~same & finite]],
        "roc": verification_roc(similarity[finite], same[finite]),
    }


def _pair_distance(profile: Profile, cache: EmbeddingCache, pair: _Pair) -> float:
    first, second = cache.record(pair.first).embedding, cache.record(pair.second).embedding
    if first is None or second is None:
        return math.inf
    if profile.metric == "cosine":
        return float(1.0 - first @ second)
    return float(np.linalg.norm(first - second))


def _best_threshold(distances: npt.NDArray[np.float64], same: npt.NDArray[np.bool_]) -> float:
    values = np.sort(distances[np.isfinite(distances)])
    if values.size == 0:
        return 0.0
    candidates = np.concatenate(
        [[values[0] - 1e-6], (values[1:] + values[:-1]) / 2, [values[-1] + 1e-6]]
    )
    accuracies = [np.mean((distances < value) == same) for value in candidates]
    return float(candidates[int(np.argmax(accuracies))])


def verification_roc(
    similarity: npt.NDArray[np.float64], same: npt.NDArray[np.bool_]
) -> list[dict[str, float]]:
    points = [{"far": 0.0, "tar": 0.0, "threshold": math.inf}]
    positives, negatives = max(1, int(same.sum())), max(1, int((~same).sum()))
    for value in sorted(set(similarity.tolist()), reverse=True):
        accepted = similarity >= value
        points.append(
            {
                "far": float((accepted & ~same).sum() / negatives),
                "tar": float((accepted & same).sum() / positives),
                "threshold": float(value),
            }
        )
    return points


# --- report ------------------------------------------------------------------------------


def render_report_html(result: dict[str, Any]) -> str:
    """A self-contained HTML page: headline numbers, ROC curve, score histograms, failures."""
    title = f"Face evaluation — {result.get('profile', '')}"
    headline_keys = (
        "rank1",
        "closed_set_rank1",
        "distractor_accept_rate",
        "precision",
        "recall",
        "tar_at_far_1pct",
        "tar_at_far_0_1pct",
        "accuracy",
        "std",
        "threshold",
    )
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{_format_number(result[key])}</td></tr>"
        for key in headline_keys
        if key in result and result[key] is not None
    )
    counts = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>"
        for key, value in result.get("counts", {}).items()
    )
    failures = "".join(_failure_row(failure) for failure in result.get("failures", []))
    failures_table = (
        "<h2>Failures</h2><table><tr><th>face</th><th>photo</th><th>expected</th>"
        f"<th>named</th><th>nearest</th><th>confidence</th><th>distance</th></tr>{failures}</table>"
        if failures
        else ""
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_REPORT_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(str(result.get('root', '')))}</p>"
        f"<table>{rows}{counts}</table>"
        f"<h2>ROC</h2>{_roc_svg(result.get('roc', []))}"
        "<h2>Scores of the top answer</h2>"
        f"{_histogram_svg(result.get('genuine_scores', []), result.get('impostor_scores', []))}"
        f"{failures_table}</body></html>"
    )


_REPORT_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
    "img{width:64px;height:64px;object-fit:cover}"
)


def _format_number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


def _failure_row(failure: dict[str, Any]) -> str:
    crop = failure.get("crop")
    image = f"<img src='{html.escape(crop)}' alt='face'>" if crop else "no face"
    cells = [
        failure.get("path"),
        failure.get("expected"),
        failure.get("named"),
        failure.get("nearest"),
        failure.get("confidence"),
        failure.get("distance"),
    ]
    return (
        f"<tr><td>{image}</td>"
        + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells)
        + "</tr>"
    )


def _roc_svg(roc: list[dict[str, float]], size: int = 320) -> str:
    """TAR against FAR with a log FAR axis from 0.1 % to 100 %."""
    if not roc:
        return "<p>no ROC data</p>"
    margin = 40

    def x_of(far: float) -> float:
        position = (math.log10(max(far, 1e-3)) + 3) / 3
        return margin + position * (size - 2 * margin)

    def y_of(tar: float) -> float:
        return size - margin - tar * (size - 2 * margin)

    points = " ".join(f"{x_of(p['far']):.1f},{y_of(p['tar']):.1f}" for p in roc)
    ticks = "".join(
        f"<text x='{x_of(far):.1f}' y='{size - margin + 16}' font-size='10' "
        f"text-anchor='middle'>{label}</text>"
        for far, label in ((1e-3, "0.1%"), (1e-2, "1%"), (1e-1, "10%"), (1.0, "100%"))
    ) + "".join(
        f"<text x='{margin - 4}' y='{y_of(tar) + 4:.1f}' font-size='10' "
        f"text-anchor='end'>{tar:g}</text>"
        for tar in (0.0, 0.5, 0.9, 1.0)
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}'>"
        f"<rect x='{margin}' y='{margin}' width='{size - 2 * margin}' "
        f"height='{size - 2 * margin}' fill='none' stroke='#999'/>"
        f"<polyline points='{points}' fill='none' stroke='#1565c0' stroke-width='2'/>{ticks}"
        f"<text x='{size / 2}' y='{size - 6}' font-size='11' text-anchor='middle'>"
        "false accept rate (log)</text>"
        f"<text x='12' y='{size / 2}' font-size='11' transform='rotate(-90 12 {size / 2})' "
        "text-anchor='middle'>true accept rate</text></svg>"
    )


def _histogram_svg(
    genuine: list[float], impostor: list[float], width: int = 480, height: int = 200
) -> str:
    values = list(genuine) + list(impostor)
    if not values:
        return "<p>no scores</p>"
    low, high = min(values), max(values)
    if high - low < 1e-9:
        high = low + 1.0
    bins = 30
    edges = np.linspace(low, high, bins + 1)
    genuine_counts = np.histogram(genuine, bins=edges)[0] / max(1, len(genuine))
    impostor_counts = np.histogram(impostor, bins=edges)[0] / max(1, len(impostor))
    tallest = max(float(genuine_counts.max()), float(impostor_counts.max()), 1e-9)
    bar_width = (width - 20) / bins
    bars = []
    for index in range(bins):
        for counts, colour in ((impostor_counts, "#c62828"), (genuine_counts, "#2e7d32")):
            bar_height = float(counts[index]) / tallest * (height - 30)
            bars.append(
                f"<rect x='{10 + index * bar_width:.1f}' y='{height - 20 - bar_height:.1f}' "
                f"width='{bar_width - 1:.1f}' height='{bar_height:.1f}' fill='{colour}' "
                "fill-opacity='0.55'/>"
            )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"
        + "".join(bars)
        + f"<text x='10' y='{height - 4}' font-size='10'>{low:.3f}</text>"
        f"<text x='{width - 10}' y='{height - 4}' font-size='10' text-anchor='end'>{high:.3f}</text>"
        "<text x='10' y='12' font-size='11' fill='#2e7d32'>genuine</text>"
        "<text x='80' y='12' font-size='11' fill='#c62828'>impostor</text></svg>"
    )


def _fraction(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _data_uri(jpeg: bytes | None) -> str | None:
    if not jpeg:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
