"""Every index calibrates itself on its own gallery.

Margins between people shrink as a gallery grows: a threshold that names 1 % of outsiders in
a 52-person gallery names far more of them in a 100k-person one. So each index, when it is
built and again when it has grown by `STASHSENSE_RECALIBRATE_GROWTH`, searches a sample of its
own faces:

- impostor searches: a face searched with every face of its performer left out, so whoever
  comes first would be a wrong name — exactly what an outsider's search looks like. These fix
  the acceptance threshold for the target false-accept rate (`STASHSENSE_TARGET_FAR`).
- genuine searches: a face of a performer with two or more faces, searched without that face.
  With enough of them (and impostors) the confidence curve itself is fitted; with fewer (a
  gallery of one photo per performer) the profile's default curve stays and only the
  threshold moves, which still holds the FAR.

Bounded whatever the gallery: a reservoir sample of at most `STASHSENSE_CALIBRATION_SAMPLES`
faces is drawn in one streaming pass over face ids, and each sample is one query of the index
itself (an HNSW graph at scale), never a scan of every face.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from scipy.stats import norm

from recognition.choices import FaceStatus
from recognition.index import ExactIndex, Metric, VectorIndex
from recognition.models import Face
from recognition.scoring import (
    FEATURE_NAMES,
    Calibrator,
    decision_features,
    default_calibrator,
    threshold_for_far,
)

logger = logging.getLogger(__name__)

NEIGHBOURS = 20  # what identification looks at (identification.NEIGHBOURS)
# A performer with more faces than this is only a genuine probe: leaving all of them out
# would need a query deeper than the sample is worth.
MAX_LEFT_OUT = 200
MIN_GENUINE_FOR_CURVE = 100
MIN_IMPOSTOR_FOR_CURVE = 100
# The empirical quantile is trusted once this many impostor samples lie beyond it.
MIN_IMPOSTORS_BEYOND = 10
# Fewer impostor samples than this say nothing about a tail: the profile's threshold stays.
MIN_IMPOSTORS_FOR_TAIL = 20
_BATCH = 256


@dataclass(frozen=True)
class _Sampled:
    face_id: int
    performer_id: str
    own_faces: int
    vector: npt.NDArray[np.float32]


def index_self_calibration(
    *,
    index: VectorIndex,
    profile: str,
    metric: str,
    max_face_id: int,
    target_far: float | None = None,
    samples: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The calibration (Calibrator.to_dict) an index fits on its own faces up to `max_face_id`."""
    target = settings.STASHSENSE_TARGET_FAR if target_far is None else target_far
    count = settings.STASHSENSE_CALIBRATION_SAMPLES if samples is None else samples
    sampled = _face_sample(profile, max_face_id, count, seed)
    rows, labels, impostor_rows = _search_samples(index, sampled, _owners)
    calibrator = fit_gallery_calibrator(
        rows, labels, impostor_rows, profile=profile, metric=metric, target_far=target
    )
    calibrator.stats.update(
        {
            "faces": len(index),
            "performers_sampled": len({s.performer_id for s in sampled}),
            "fitted_at": timezone.now().isoformat(),
        }
    )
    logger.info(
        "Index of %s calibrated on itself: threshold %.4f holds FAR %.4f (%s curve, %d genuine, "
        "%d impostor samples)",
        profile,
        calibrator.threshold,
        calibrator.stats["far"],
        calibrator.stats["curve"],
        calibrator.stats["genuine"],
        calibrator.stats["impostor"],
    )
    return calibrator.to_dict()


def matrix_self_calibration(
    embeddings: npt.NDArray[np.float32],
    keys: Sequence[str],
    *,
    profile: str,
    metric: Metric,
    target_far: float,
    samples: int = 2000,
    seed: int = 0,
) -> Calibrator:
    """The same self-calibration for a gallery held as a matrix (evaluation protocols)."""
    index = ExactIndex.create(int(embeddings.shape[1]), metric, capacity=len(keys))
    labels = np.arange(len(keys), dtype=np.int64)
    index.add(labels, embeddings)
    owners = {int(label): str(key) for label, key in zip(labels, keys, strict=True)}
    own: dict[str, int] = {}
    for key in owners.values():
        own[key] = own.get(key, 0) + 1
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(keys)), min(samples, len(keys))))
    sampled = [_Sampled(i, owners[i], own[owners[i]], embeddings[i]) for i in chosen]

    def owners_of(face_ids: Iterable[int]) -> dict[int, str]:
        return {i: owners[i] for i in face_ids if i in owners}

    rows, found_labels, impostor_rows = _search_samples(index, sampled, owners_of)
    return fit_gallery_calibrator(
        rows, found_labels, impostor_rows, profile=profile, metric=metric, target_far=target_far
    )


def fit_gallery_calibrator(
    rows: npt.NDArray[np.float64],
    labels: npt.NDArray[np.float64],
    impostor_rows: npt.NDArray[np.float64],
    *,
    profile: str,
    metric: str,
    target_far: float,
) -> Calibrator:
    """The gallery's own curve when it has enough genuine samples; without them (one photo a
    performer) a curve of the distance alone, the one feature that needs no genuine sample to
    be trusted. Either way the threshold lets through at most `target_far` of the impostors:
    their empirical quantile when enough of them lie beyond it, else a normal tail fitted to
    their decision values (a maximum of 50 samples says little about a 1 % tail)."""
    genuine = int((labels == 1).sum())
    if genuine >= MIN_GENUINE_FOR_CURVE and len(impostor_rows) >= MIN_IMPOSTOR_FOR_CURVE:
        calibrator = Calibrator.fit(rows, labels, target_far=target_far, metric=metric)
        curve = "gallery"
    else:
        calibrator = _distance_only(default_calibrator(profile, metric))
        curve = "distance only"
    calibrator.target_far = target_far
    floor = default_calibrator(profile, metric).threshold
    values = calibrator.decision_values(impostor_rows) if len(impostor_rows) else np.zeros(0)
    if len(values) * target_far >= MIN_IMPOSTORS_BEYOND:
        calibrator.threshold = threshold_for_far(_sigmoid(values), target_far)
        method = "empirical"
    elif len(values) >= MIN_IMPOSTORS_FOR_TAIL:
        tail = float(values.mean() + norm.ppf(1 - target_far) * values.std(ddof=1))
        # Samples all alike (no spread) would put a fitted tail on them and let them all
        # through: a tail never sits at or below the bulk of the samples.
        bulk = float(np.nextafter(_sigmoid(np.median(values, keepdims=True))[0], np.inf))
        calibrator.threshold = max(float(_sigmoid(np.asarray([tail]))[0]), bulk)
        method = "normal tail"
        if len(values) * target_far >= 1:
            # Real impostor tails are often heavier than normal: where the samples can show
            # their own quantile (however roughly), the threshold is never looser than it.
            observed = threshold_for_far(_sigmoid(values), target_far)
            if observed > calibrator.threshold:
                calibrator.threshold, method = (
                    observed,
                    "normal tail, held at the samples' quantile",
                )
    else:
        calibrator.threshold = floor
        method = "profile default"
    # A gallery's own samples only ever tighten the profile's default: margins shrink as a
    # gallery grows, and a few clean samples are no reason to name more outsiders.
    if curve != "gallery" and calibrator.threshold < floor:
        calibrator.threshold, method = floor, f"{method}, held at the profile default"
    scores = _sigmoid(values)
    in_samples = float((scores >= calibrator.threshold).mean()) if len(scores) else 0.0
    calibrator.stats = {
        "source": "gallery",
        "curve": curve,
        "threshold_method": method,
        "genuine": genuine,
        "impostor": len(impostor_rows),
        "target_far": target_far,
        # The FAR the threshold holds by its own estimate, and what the samples themselves show
        # (with 50 samples, one above the threshold is 2 %: too coarse to be the estimate).
        "far": target_far if method.startswith("normal tail") else in_samples,
        "far_in_samples": in_samples,
    }
    return calibrator


def _distance_only(base: Calibrator) -> Calibrator:
    """`base` with the margin's weight set to zero: P(right) falls with the distance alone."""
    weights = np.array(
        [
            w if name == "distance" else 0.0
            for name, w in zip(FEATURE_NAMES, base.weights, strict=True)
        ]
    )
    return Calibrator(
        weights=weights,
        bias=base.bias,
        feature_mean=base.feature_mean,
        feature_scale=base.feature_scale,
        threshold=base.threshold,
        target_far=base.target_far,
        metric=base.metric,
    )


def _sigmoid(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * values)), dtype=np.float64)


def _face_sample(profile: str, max_face_id: int, count: int, seed: int) -> list[_Sampled]:
    """A uniform sample of the profile's active faces (reservoir: one pass, bounded memory)."""
    rng = random.Random(seed)
    reservoir: list[tuple[int, str]] = []
    faces = Face.objects.filter(profile=profile, status=FaceStatus.ACTIVE, pk__lte=max_face_id)
    pairs = faces.order_by("pk").values_list("pk", "performer_id").iterator(chunk_size=5000)
    for seen, (face_id, performer_id) in enumerate(pairs):
        if len(reservoir) < count:
            reservoir.append((face_id, str(performer_id)))
        else:
            slot = rng.randrange(seen + 1)
            if slot < count:
                reservoir[slot] = (face_id, str(performer_id))
    if not reservoir:
        return []
    own = {
        str(performer_id): count
        for performer_id, count in faces.filter(performer_id__in={p for _, p in reservoir})
        .values("performer_id")
        .annotate(n=Count("pk"))
        .values_list("performer_id", "n")
    }
    vectors = dict(
        Face.objects.filter(pk__in=[f for f, _ in reservoir]).values_list("pk", "embedding")
    )
    return [
        _Sampled(f, p, own[p], np.frombuffer(bytes(vectors[f]), np.float32)) for f, p in reservoir
    ]


Owners = Callable[[Iterable[int]], dict[int, str]]


def _search_samples(
    index: VectorIndex, sampled: list[_Sampled], owners_of: Owners
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Decision features of every genuine and impostor search (rows, labels) and the
    impostor rows alone."""
    rows: list[npt.NDArray[np.float64]] = []
    labels: list[float] = []
    impostors: list[npt.NDArray[np.float64]] = []
    for start in range(0, len(sampled), _BATCH):
        batch = sampled[start : start + _BATCH]
        depth = min(len(index), NEIGHBOURS + 1 + max(min(s.own_faces, MAX_LEFT_OUT) for s in batch))
        if depth < 2:
            continue
        found, distances = index.query(np.stack([s.vector for s in batch]), depth)
        owners = owners_of(found.ravel().tolist())
        for sample, row_labels, row_distances in zip(batch, found, distances, strict=True):
            neighbours = [
                (owners[int(label)], float(distance))
                for label, distance in zip(row_labels, row_distances, strict=True)
                if int(label) in owners and int(label) != sample.face_id
            ]
            if sample.own_faces >= 2:
                top, features = decision_features(*_columns(neighbours[:NEIGHBOURS]))
                if top is not None:
                    rows.append(features)
                    labels.append(1.0 if top == sample.performer_id else 0.0)
            if sample.own_faces <= MAX_LEFT_OUT:
                others = [n for n in neighbours if n[0] != sample.performer_id][:NEIGHBOURS]
                top, features = decision_features(*_columns(others))
                if top is not None:
                    rows.append(features)
                    labels.append(0.0)
                    impostors.append(features)
    width = len(FEATURE_NAMES)
    return (
        np.vstack(rows) if rows else np.zeros((0, width)),
        np.asarray(labels, dtype=np.float64),
        np.vstack(impostors) if impostors else np.zeros((0, width)),
    )


def _columns(neighbours: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    return [key for key, _ in neighbours], [distance for _, distance in neighbours]


def _owners(face_ids: Iterable[int]) -> dict[int, str]:
    wanted = {face_id for face_id in face_ids if face_id >= 0}
    return {
        pk: str(performer_id)
        for pk, performer_id in Face.objects.filter(
            pk__in=wanted, status=FaceStatus.ACTIVE
        ).values_list("pk", "performer_id")
    }
