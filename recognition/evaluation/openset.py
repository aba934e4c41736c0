"""The open-set protocol (`evaluate_directory`) and a calibration fitted on it (`fit_calibration`).

One folder per identity, files sorted by name: the first photo of an identity with two or more
is its gallery face, the others are probes that must be named; an identity with a single photo
is an outsider that must come back unknown. When the folder has a `labels.csv`
(`path,identity,...`) it decides which files count; identities starting with `_` (group photos,
videos) are left out.
"""

from __future__ import annotations

import base64
import csv
import math
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recognition.engine.profile import Profile
from recognition.evaluation.labelled_faces import (
    DEFAULT_NEIGHBOURS,
    IMAGE_SUFFIXES,
    EmbeddingCache,
    FaceRecord,
    Progress,
)
from recognition.gallery_calibration import matrix_self_calibration
from recognition.index import check_metric
from recognition.scoring import (
    DEFAULT_TOP_K,
    Calibrator,
    IdentityMatch,
    decision_features,
    default_calibrator,
    rank_identities,
)


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
    target_far: float = 0.01,
    neighbours: int = DEFAULT_NEIGHBOURS,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the open-set protocol on `root`; fractions are 0..1 (see module docstring).

    Without a `calibrator` the gallery calibrates itself for `target_far` (leave-out searches
    of its own faces, see recognition.gallery_calibration), as every index does.

    rank1: probes whose person is named first (confidence over the threshold);
    distractor_accept_rate: outsiders named as anyone; precision: named answers that are
    right; tar_at_far_*: best rank-1 reachable while that share of outsiders is accepted.
    """
    cache = cache or EmbeddingCache(profile)
    split = split_open_set(list_identities(root))
    gallery = _build_gallery(profile, split, cache, progress)
    if calibrator is None:
        # As an index does: the gallery calibrates itself, nothing is fitted on the probes.
        calibrator = gallery_self_calibrator(profile, gallery, target_far=target_far)
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


def gallery_self_calibrator(
    profile: Profile, gallery: _Gallery, *, target_far: float
) -> Calibrator:
    if not gallery.keys:
        return default_calibrator(profile.name, profile.metric)
    return matrix_self_calibration(
        gallery.embeddings,
        gallery.keys,
        profile=profile.name,
        metric=check_metric(gallery.metric),
        target_far=target_far,
    )


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


def _fraction(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _data_uri(jpeg: bytes | None) -> str | None:
    if not jpeg:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
