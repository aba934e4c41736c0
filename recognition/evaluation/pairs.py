"""LFW's 10-fold verification protocol on a `pairs.txt` (`evaluate_pairs`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recognition.engine.profile import Profile
from recognition.evaluation.labelled_faces import EmbeddingCache, Progress


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
