"""Identity-level open-set decisions from a probe's nearest gallery faces (pure numpy).

The index returns the k nearest gallery faces of a probe face (performer keys + distances).
Here they are grouped by performer, each identity gets decision features, and a calibrated
logistic model turns those into the probability that naming that performer is right.
"Unknown" is an empty answer: no identity reaches the acceptance threshold.

Why these features (measured on ../shared/faces-open with scrfd-dlib: 52 gallery people
with one photo each, 81 probes, 600 outsiders; rank-1 while <= 1 % of outsiders get a name):
  nearest face, one L2 threshold                           84.0 %  (MISSION.md floor)
  + mirror-averaged descriptors (engine)                    90.1 %
  + margin to the next identity, logistic calibration       91.4 %  (92.6 % best direction)
The margin matters because an outsider tends to sit at a similar distance from several
gallery people of the same look, while a true match stands out from the rest. Tried and
dropped (no gain or worse): deterministic crop/rotation/upscale test-time augmentation,
68-point or SCRFD-keypoint alignment, gallery-side (Z) and probe-side (T) cohort
normalisation, second-order distance profiles, quality features in the calibrator, and
within-class whitening learned from the dev set.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

FEATURE_NAMES = ("distance", "margin")
DEFAULT_TOP_K = 3
DEFAULT_FACES_PER_IDENTITY = 3
DEFAULT_TARGET_FAR = 0.01
# When a probe's neighbour list holds a single identity, the next identity is at least as far
# as the farthest neighbour returned; this cap keeps that margin from looking infinite.
_MARGIN_CAP = 1.0


@dataclass(frozen=True)
class IdentityCandidate:
    """One performer among a probe's neighbours, with its decision features."""

    performer_key: Hashable
    distance: float
    mean_distance: float
    faces_used: int
    margin: float

    def features(self) -> FloatArray:
        return np.array([self.distance, self.margin], dtype=np.float64)


@dataclass(frozen=True)
class IdentityMatch:
    """A named candidate for a probe face, best first in `rank_identities`' answer.

    `score` is a similarity (1 - distance; higher is closer, not a probability);
    `confidence` is the calibrated probability that this performer is the person.
    """

    performer_key: Hashable
    score: float
    confidence: float
    distance: float
    faces_used: int
    margin: float


def group_identities(
    keys: Sequence[Hashable],
    distances: Sequence[float] | FloatArray,
    *,
    faces_per_identity: int = DEFAULT_FACES_PER_IDENTITY,
) -> list[IdentityCandidate]:
    """Group neighbour faces by performer, nearest identity first.

    An identity's distance is its nearest face's; `mean_distance` averages its nearest
    `faces_per_identity` faces; `margin` is how much nearer it is than the nearest *other*
    identity (negative for every identity but the first).
    """
    values = np.asarray(distances, dtype=np.float64).reshape(-1)
    if len(keys) != values.shape[0]:
        raise ValueError("keys and distances must have the same length")
    grouped: dict[Hashable, list[float]] = {}
    for key, value in zip(keys, values.tolist(), strict=True):
        if math.isfinite(value):
            grouped.setdefault(key, []).append(value)
    if not grouped:
        return []
    ordered = sorted(
        ((key, sorted(faces)) for key, faces in grouped.items()), key=lambda item: item[1][0]
    )
    bests = [faces[0] for _, faces in ordered]
    farthest = float(np.nanmax(values[np.isfinite(values)]))
    candidates = []
    for position, (key, faces) in enumerate(ordered):
        if len(bests) > 1:
            other = bests[1] if position == 0 else bests[0]
        else:
            other = min(farthest, faces[0] + _MARGIN_CAP)
        top = faces[: max(1, faces_per_identity)]
        candidates.append(
            IdentityCandidate(
                performer_key=key,
                distance=faces[0],
                mean_distance=float(np.mean(top)),
                faces_used=len(top),
                margin=min(other - faces[0], _MARGIN_CAP),
            )
        )
    return candidates


@dataclass
class Calibrator:
    """Logistic model from decision features to P(named identity is right), plus a threshold.

    `threshold` is the confidence an identity needs to be named; `fit` chooses it so that at
    most `target_far` of the impostor samples it saw would be accepted. JSON-serialisable
    with `to_dict`/`from_dict`, so it is stored next to the index it was fitted for.
    """

    weights: FloatArray
    bias: float
    feature_mean: FloatArray
    feature_scale: FloatArray
    threshold: float
    target_far: float = DEFAULT_TARGET_FAR
    metric: str = "l2"
    feature_names: tuple[str, ...] = FEATURE_NAMES
    stats: dict[str, Any] = field(default_factory=dict)

    def decision_values(self, features: FloatArray) -> FloatArray:
        rows = np.atleast_2d(np.asarray(features, dtype=np.float64))
        standardized = (rows - self.feature_mean) / self.feature_scale
        return np.asarray(standardized @ self.weights + self.bias, dtype=np.float64)

    def confidences(self, features: FloatArray) -> FloatArray:
        """P(right) for each row of features (n, len(feature_names))."""
        return _sigmoid(self.decision_values(features))

    def confidence(self, candidate: IdentityCandidate) -> float:
        return float(self.confidences(candidate.features())[0])

    @classmethod
    def fit(
        cls,
        features: FloatArray,
        labels: npt.ArrayLike,
        *,
        target_far: float = DEFAULT_TARGET_FAR,
        metric: str = "l2",
        threshold: float | None = None,
        regularization: float = 1e-3,
    ) -> Calibrator:
        """Fit on decision features of genuine (label 1) and impostor (label 0) answers.

        An impostor sample is an answer that would be wrong if accepted: an outsider's
        nearest identity, or a wrongly ranked first identity for a gallery person.
        The acceptance threshold is `threshold` when given, else the confidence that lets
        through at most `target_far` of the impostor samples (recorded in `stats` either way).
        """
        rows = np.atleast_2d(np.asarray(features, dtype=np.float64))
        targets = np.asarray(labels, dtype=np.float64).reshape(-1)
        if rows.shape[0] != targets.shape[0]:
            raise ValueError("features and labels must have the same number of rows")
        if not (targets.min(initial=1) == 0 and targets.max(initial=0) == 1):
            raise ValueError("calibration needs both genuine and impostor samples")
        mean = rows.mean(axis=0)
        scale = rows.std(axis=0)
        scale[scale < 1e-9] = 1.0
        weights, bias = _fit_logistic((rows - mean) / scale, targets, regularization)
        calibrator = cls(
            weights=weights,
            bias=bias,
            feature_mean=mean,
            feature_scale=scale,
            threshold=0.5,
            target_far=target_far,
            metric=metric,
        )
        scores = calibrator.confidences(rows)
        at_target = threshold_for_far(scores[targets == 0], target_far)
        calibrator.threshold = at_target if threshold is None else float(threshold)
        accepted = scores >= calibrator.threshold
        calibrator.stats = {
            "genuine": int((targets == 1).sum()),
            "impostor": int((targets == 0).sum()),
            "threshold_at_target_far": at_target,
            "far": float(accepted[targets == 0].mean()),
            "tar": float(accepted[targets == 1].mean()),
        }
        return calibrator

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "logistic",
            "feature_names": list(self.feature_names),
            "weights": [float(value) for value in self.weights],
            "bias": float(self.bias),
            "feature_mean": [float(value) for value in self.feature_mean],
            "feature_scale": [float(value) for value in self.feature_scale],
            "threshold": float(self.threshold),
            "target_far": float(self.target_far),
            "metric": self.metric,
            "stats": dict(self.stats),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        names = tuple(data.get("feature_names", FEATURE_NAMES))
        if names != FEATURE_NAMES:
            raise ValueError(f"calibration uses features {names}, this code knows {FEATURE_NAMES}")
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
            feature_mean=np.asarray(data["feature_mean"], dtype=np.float64),
            feature_scale=np.asarray(data["feature_scale"], dtype=np.float64),
            threshold=float(data["threshold"]),
            target_far=float(data.get("target_far", DEFAULT_TARGET_FAR)),
            metric=str(data.get("metric", "l2")),
            feature_names=names,
            stats=dict(data.get("stats", {})),
        )


# Fitted with `fit_calibration(scrfd-dlib, ../shared/faces-open, threshold=0.5)` (52 gallery
# identities, 81 probes, 600 outsiders). The default threshold is 0.5, "more likely right than
# wrong": it names 95 % of faces-open probes while 3.2 % of its outsiders get a name, and
# 99 % of the dev set's probes. The confidence that lets only 1 % of faces-open's outsiders
# through is 0.76 (91 % named). An index should carry a calibrator fitted on its own gallery
# (margins shrink as a gallery grows); this one is the fallback until it does.
_SCRFD_DLIB_CALIBRATION: dict[str, Any] = {
    "kind": "logistic",
    "feature_names": ["distance", "margin"],
    "weights": [-3.12065393, 0.67078858],
    "bias": -2.85984212,
    "feature_mean": [0.59443443, 0.05247341],
    "feature_scale": [0.08280266, 0.06859345],
    "threshold": 0.5,
    "target_far": 0.01,
    "metric": "l2",
    "stats": {
        "source": "faces-open",
        "genuine": 81,
        "impostor": 600,
        "threshold_at_target_far": 0.76172296,
    },
}

# Profiles without a fitted calibration start from a hand-set rule in raw feature units:
# P(right) = sigmoid(distance_weight * (pivot - distance) + margin_weight * margin).
_GENERIC_RULES = {
    # dlib's documented operating point is L2 0.6; faces-open puts equal error nearer 0.5.
    "l2": {"pivot": 0.5, "distance_weight": 25.0, "margin_weight": 12.0},
    # ArcFace-family cosine distance: Immich and Visage accept below ~0.5-0.6.
    "cosine": {"pivot": 0.55, "distance_weight": 20.0, "margin_weight": 10.0},
}


def default_calibrator(profile_name: str, metric: str) -> Calibrator:
    """The calibrator to use when an index carries none of its own."""
    if profile_name == "scrfd-dlib" and _SCRFD_DLIB_CALIBRATION:
        return Calibrator.from_dict(_SCRFD_DLIB_CALIBRATION)
    rule = _GENERIC_RULES["cosine" if metric == "cosine" else "l2"]
    return Calibrator(
        weights=np.array([-rule["distance_weight"], rule["margin_weight"]]),
        bias=rule["distance_weight"] * rule["pivot"],
        feature_mean=np.zeros(len(FEATURE_NAMES)),
        feature_scale=np.ones(len(FEATURE_NAMES)),
        threshold=0.5,
        metric=metric,
        stats={"source": "generic rule"},
    )


def threshold_for_far(impostor_scores: npt.ArrayLike, target_far: float) -> float:
    """The lowest score threshold (accept when score >= it) that lets through at most
    `target_far` of the impostor scores."""
    scores = np.sort(np.asarray(impostor_scores, dtype=np.float64).reshape(-1))[::-1]
    if scores.size == 0:
        return 0.5
    allowed = math.floor(max(0.0, target_far) * scores.size + 1e-9)
    if allowed >= scores.size:
        return float(scores[-1])
    return float(np.nextafter(scores[allowed], np.inf))


def rank_identities(
    keys: Sequence[Hashable],
    distances: Sequence[float] | FloatArray,
    *,
    calibrator: Calibrator,
    top_k: int = DEFAULT_TOP_K,
    threshold: float | None = None,
    faces_per_identity: int = DEFAULT_FACES_PER_IDENTITY,
) -> list[IdentityMatch]:
    """The performers a probe face may be, best first; an empty list means "unknown".

    `keys`/`distances` are the probe's nearest gallery faces as the index returns them
    (any order, several faces per performer allowed). `threshold` is the minimum
    calibrated confidence to name someone (default: the calibrator's, chosen for its
    target false-accept rate); pass 0 to get the `top_k` nearest identities regardless.
    """
    minimum = calibrator.threshold if threshold is None else float(threshold)
    candidates = group_identities(keys, distances, faces_per_identity=faces_per_identity)
    if not candidates:
        return []
    confidences = calibrator.confidences(
        np.vstack([candidate.features() for candidate in candidates])
    )
    matches = [
        IdentityMatch(
            performer_key=candidate.performer_key,
            score=1.0 - candidate.distance,
            confidence=float(confidence),
            distance=candidate.distance,
            faces_used=candidate.faces_used,
            margin=candidate.margin,
        )
        for candidate, confidence in zip(candidates, confidences.tolist(), strict=True)
        if confidence >= minimum
    ]
    return matches[: max(0, top_k)]


def decision_features(
    keys: Sequence[Hashable],
    distances: Sequence[float] | FloatArray,
    *,
    faces_per_identity: int = DEFAULT_FACES_PER_IDENTITY,
) -> tuple[Hashable | None, FloatArray]:
    """The first-ranked identity of a probe and its features (for fitting a calibrator)."""
    candidates = group_identities(keys, distances, faces_per_identity=faces_per_identity)
    if not candidates:
        return None, np.full(len(FEATURE_NAMES), np.nan)
    return candidates[0].performer_key, candidates[0].features()


def _sigmoid(values: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * values)), dtype=np.float64)


def _fit_logistic(
    rows: FloatArray, targets: FloatArray, regularization: float
) -> tuple[FloatArray, float]:
    """L2-regularised logistic regression by L-BFGS, classes weighted to equal mass.

    Equal class mass keeps a calibrator fitted on 600 outsiders and 80 genuine probes from
    learning "almost everyone is an outsider" as its prior.
    """
    from scipy.optimize import minimize

    positives = max(1.0, float(targets.sum()))
    negatives = max(1.0, float((1 - targets).sum()))
    sample_weights = np.where(targets == 1, 0.5 / positives, 0.5 / negatives)

    def loss_and_gradient(parameters: FloatArray) -> tuple[float, FloatArray]:
        weights, bias = parameters[:-1], parameters[-1]
        logits = rows @ weights + bias
        # log(1 + e^z) - y z, computed stably.
        losses = np.logaddexp(0.0, logits) - targets * logits
        residual = sample_weights * (_sigmoid(logits) - targets)
        loss = float(sample_weights @ losses + 0.5 * regularization * weights @ weights)
        gradient = np.append(rows.T @ residual + regularization * weights, residual.sum())
        return loss, gradient

    start = np.zeros(rows.shape[1] + 1)
    result = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B")
    return np.asarray(result.x[:-1], dtype=np.float64), float(result.x[-1])
