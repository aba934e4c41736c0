"""Who is in a scene: group its faces into persons, then let each person's faces vote.

A scene gives many small, noisy faces of few people. Naming each face alone names extras
after gallery look-alikes; grouping first lets a person's good faces outvote their bad ones,
and a person seen once in a small face stays unnamed unless the evidence is strong.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from recognition.index import Metric, check_metric

# Cut on the average distance between two groups of faces, per metric. dlib (l2): same person
# 0.43 +- 0.07 and different people 0.84 +- 0.10 on our dev photos (see
# recognition/benchmarks/synthetic_gallery.py), but 20-30 px sprite faces spread more. On
# ../shared sprites (dlib HOG on tiles upscaled to 640, average linkage): dev_stills, 23 faces of
# 23 different people, merged none at 0.5 and 0.55, one pair at 0.6, 7 groups at 0.7; dev_video,
# 12 faces of probably two people, gave 4 groups at 0.5, 3 at 0.55, 2 at 0.6. A false merge loses
# a co-star, a split only lists someone twice: 0.55. Cosine (ArcFace, not measured here: same
# person ~0.45, strangers ~1.0; Immich clusters at 0.5 with chaining DBSCAN): 0.6.
DEFAULT_DISTANCE_CUTS: dict[str, float] = {"l2": 0.55, "cosine": 0.6}
LINKAGE_METHODS = ("average", "complete")


@dataclass(frozen=True)
class FaceMatch:
    """One gallery candidate for one face, as the identification step ranked it."""

    performer_key: Hashable
    score: float
    confidence: float


@dataclass(frozen=True)
class PersonMatch:
    """A candidate for a whole person: `votes` = faces whose best candidate it is."""

    performer_key: Hashable
    score: float
    confidence: float
    votes: int


@dataclass(frozen=True)
class ScenePerson:
    """One person seen in a scene: their faces, the frames they appear in, ranked names."""

    face_indices: list[int]
    frames: list[int]
    best_face_index: int
    matches: list[PersonMatch] = field(default_factory=list)


@dataclass(frozen=True)
class VotingParams:
    """How per-face candidates become per-person matches.

    `unseen_weight` is the weight of imaginary faces that saw nobody: a person's confidence is
    the quality-weighted mean of its faces' confidences with this much weight added at zero,
    so one small face (quality 0.2, confidence 0.9) gives 0.9 * 0.2 / 0.7 = 0.26 while ten
    good faces at 0.9 give 0.86. `cast_odds_boost` multiplies the odds of a performer already
    on the scene (a prior, not evidence); it never lifts one above a rival whose own
    confidence is at least `strong_confidence`.
    """

    unseen_weight: float = 0.5
    cast_odds_boost: float = 3.0
    strong_confidence: float = 0.8
    max_matches: int = 5


def cluster_faces(
    embeddings: npt.ArrayLike,
    frame_indices: Sequence[int],
    *,
    metric: Metric,
    distance_cut: float | None = None,
    method: str = "average",
) -> list[list[int]]:
    """Agglomerative clustering of faces; two faces of one frame are never one person.

    Returns groups of face positions, largest first, each sorted.
    """
    vectors = np.asarray(embeddings, dtype=np.float64)
    frames = np.asarray(frame_indices)
    if vectors.ndim != 2 or vectors.shape[0] != frames.shape[0]:
        raise ValueError("need one frame index per embedding row")
    if method not in LINKAGE_METHODS:
        raise ValueError(f"linkage method must be one of {LINKAGE_METHODS}")
    cut = DEFAULT_DISTANCE_CUTS[check_metric(metric)] if distance_cut is None else distance_cut
    count = vectors.shape[0]
    if count <= 1:
        return [[index] for index in range(count)]
    distances = pdist(vectors, metric="euclidean" if metric == "l2" else "cosine")
    # Cannot-link: faces in the same frame get a distance so large that any group holding
    # both averages above the cut (average of at most count**2 pairs), so no cut merges them.
    rows, columns = np.triu_indices(count, k=1)
    distances[frames[rows] == frames[columns]] = 2.0 * (cut + 1.0) * count * count
    tree = linkage(np.maximum(distances, 0.0), method=method)
    labels = fcluster(tree, t=cut, criterion="distance")
    groups = [sorted(np.flatnonzero(labels == label).tolist()) for label in np.unique(labels)]
    return sorted(groups, key=lambda group: (-len(group), group[0]))


def vote_person(
    face_indices: Sequence[int],
    candidates: Sequence[Sequence[FaceMatch]],
    qualities: Sequence[float],
    *,
    known_performers: Collection[Hashable] = (),
    params: VotingParams = VotingParams(),
) -> list[PersonMatch]:
    """Combine the candidates of one person's faces into ranked matches for the person.

    `candidates[face]` and `qualities[face]` are indexed by face position in the scene;
    qualities are in [0, 1] (1: a sharp, frontal, large face) and weigh each face's say.
    """
    weights = {face: min(1.0, max(0.0, float(qualities[face]))) for face in face_indices}
    total = sum(weights.values())
    if total <= 0.0:
        return []
    support: dict[Hashable, list[float]] = {}  # key -> [weighted score, weighted conf, votes]
    for face in face_indices:
        ranked = sorted(candidates[face], key=lambda match: (-match.confidence, -match.score))
        heard: set[Hashable] = set()  # one face speaks once per performer (its best line)
        for rank, match in enumerate(ranked):
            if match.performer_key in heard:
                continue
            heard.add(match.performer_key)
            entry = support.setdefault(match.performer_key, [0.0, 0.0, 0.0])
            entry[0] += weights[face] * match.score
            entry[1] += weights[face] * match.confidence
            entry[2] += 1 if rank == 0 else 0
    matches = [
        PersonMatch(
            performer_key=key,
            score=weighted_score / total,
            confidence=weighted_confidence / (total + params.unseen_weight),
            votes=int(votes),
        )
        for key, (weighted_score, weighted_confidence, votes) in support.items()
    ]
    matches = _with_cast_prior(matches, known_performers, params)
    matches.sort(key=lambda match: (-match.confidence, -match.score, -match.votes))
    return matches[: params.max_matches]


def _with_cast_prior(
    matches: list[PersonMatch], known_performers: Collection[Hashable], params: VotingParams
) -> list[PersonMatch]:
    known = set(known_performers)
    if not known or params.cast_odds_boost == 1.0:
        return matches
    strong_rivals = [
        match.confidence
        for match in matches
        if match.performer_key not in known and match.confidence >= params.strong_confidence
    ]
    ceiling = max(strong_rivals, default=None)
    boosted = []
    for match in matches:
        if match.performer_key not in known or match.confidence <= 0.0:
            boosted.append(match)
            continue
        confidence = _boost_odds(match.confidence, params.cast_odds_boost)
        if ceiling is not None and match.confidence < ceiling:
            # Strong evidence for someone else stays ahead; ties go to the rival.
            confidence = min(confidence, np.nextafter(ceiling, 0.0))
        boosted.append(
            PersonMatch(
                match.performer_key, match.score, max(confidence, match.confidence), match.votes
            )
        )
    return boosted


def _boost_odds(probability: float, factor: float) -> float:
    if probability >= 1.0:
        return 1.0
    odds = probability / (1.0 - probability) * factor
    return odds / (1.0 + odds)


def scene_persons(
    embeddings: npt.ArrayLike,
    frame_indices: Sequence[int],
    qualities: Sequence[float],
    candidates: Sequence[Sequence[FaceMatch]],
    *,
    metric: Metric,
    known_performers: Collection[Hashable] = (),
    distance_cut: float | None = None,
    method: str = "average",
    params: VotingParams = VotingParams(),
) -> list[ScenePerson]:
    """Faces of a scene (one row per face) to persons with ranked matches, most seen first."""
    if not len(qualities) == len(candidates) == len(frame_indices):
        raise ValueError("need one quality and one candidate list per face")
    groups = cluster_faces(
        embeddings, frame_indices, metric=metric, distance_cut=distance_cut, method=method
    )
    persons = []
    for group in groups:
        persons.append(
            ScenePerson(
                face_indices=group,
                frames=sorted({int(frame_indices[face]) for face in group}),
                best_face_index=max(group, key=lambda face: (qualities[face], -face)),
                matches=vote_person(
                    group, candidates, qualities, known_performers=known_performers, params=params
                ),
            )
        )
    return persons
