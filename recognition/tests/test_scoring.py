from __future__ import annotations

import json

import numpy as np
import pytest

from recognition.scoring import (
    Calibrator,
    default_calibrator,
    group_identities,
    rank_identities,
    threshold_for_far,
)


def separable_samples(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Genuine answers: near and well apart from the next identity; impostors: the reverse."""
    rng = np.random.default_rng(seed)
    genuine = np.column_stack([rng.normal(0.35, 0.05, 200), rng.normal(0.25, 0.05, 200)])
    impostor = np.column_stack([rng.normal(0.60, 0.05, 600), rng.normal(0.05, 0.04, 600)])
    return np.vstack([genuine, impostor]), np.r_[np.ones(200), np.zeros(600)]


def test_group_identities_scores_each_performer_by_its_nearest_face_and_margin() -> None:
    keys = ["a", "b", "a", "c", "a"]
    distances = [0.30, 0.45, 0.35, 0.70, 0.50]

    candidates = group_identities(keys, distances, faces_per_identity=2)

    assert [c.performer_key for c in candidates] == ["a", "b", "c"]
    first = candidates[0]
    assert first.distance == pytest.approx(0.30)
    assert first.mean_distance == pytest.approx(0.325)
    assert first.faces_used == 2
    assert first.margin == pytest.approx(0.15)
    assert candidates[1].margin == pytest.approx(-0.15)
    assert candidates[2].margin == pytest.approx(-0.40)


def test_a_lone_identity_gets_a_margin_from_the_farthest_neighbour() -> None:
    candidates = group_identities([7, 7], [0.3, 0.4])

    assert candidates[0].margin == pytest.approx(0.1)
    assert group_identities([], []) == []


def test_calibrator_learns_that_near_and_distinct_answers_are_right() -> None:
    features, labels = separable_samples()

    calibrator = Calibrator.fit(features, labels, target_far=0.01)

    near = calibrator.confidences(np.array([[0.33, 0.30]]))[0]
    far = calibrator.confidences(np.array([[0.62, 0.02]]))[0]
    assert near > 0.95 and far < 0.05
    assert calibrator.weights[0] < 0 < calibrator.weights[1]
    assert calibrator.stats["far"] <= 0.01
    assert calibrator.stats["tar"] > 0.95


def test_calibrator_survives_a_json_round_trip() -> None:
    features, labels = separable_samples(1)
    calibrator = Calibrator.fit(features, labels)

    restored = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))

    assert np.allclose(restored.confidences(features), calibrator.confidences(features))
    assert restored.threshold == calibrator.threshold


def test_calibrator_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        Calibrator.fit(np.zeros((3, 2)), np.ones(3))


def test_threshold_for_far_lets_through_at_most_the_target_share() -> None:
    impostors = np.linspace(0.0, 0.99, 100)

    assert np.mean(impostors >= threshold_for_far(impostors, 0.01)) == pytest.approx(0.01)
    assert np.mean(impostors >= threshold_for_far(impostors, 0.0)) == 0.0
    assert np.mean(impostors >= threshold_for_far(impostors, 0.05)) == pytest.approx(0.05)


def test_rank_identities_names_a_clear_match_and_answers_unknown_for_an_outsider() -> None:
    calibrator = Calibrator.fit(*separable_samples(2), target_far=0.01)

    known = rank_identities(
        [101, 101, 205, 333], [0.30, 0.36, 0.62, 0.70], calibrator=calibrator, top_k=3
    )
    outsider = rank_identities([101, 205, 333], [0.58, 0.60, 0.61], calibrator=calibrator)

    assert [match.performer_key for match in known] == [101]
    assert known[0].confidence > 0.9
    assert known[0].faces_used == 2
    assert known[0].score == pytest.approx(0.70)
    assert outsider == []


def test_rank_identities_with_threshold_zero_lists_the_nearest_identities() -> None:
    calibrator = default_calibrator("scrfd-dlib", "l2")

    matches = rank_identities(
        ["x", "y", "z", "w"], [0.5, 0.55, 0.6, 0.9], calibrator=calibrator, top_k=3, threshold=0
    )

    assert [match.performer_key for match in matches] == ["x", "y", "z"]
    assert matches[0].confidence > matches[1].confidence > matches[2].confidence
    assert all(0.0 <= match.confidence <= 1.0 for match in matches)


def test_default_calibrator_for_an_unknown_cosine_profile_accepts_close_faces() -> None:
    calibrator = default_calibrator("buffalo_l", "cosine")

    close = rank_identities(["a", "b"], [0.25, 0.80], calibrator=calibrator)
    far = rank_identities(["a", "b"], [0.75, 0.80], calibrator=calibrator)

    assert [m.performer_key for m in close] == ["a"]
    assert far == []
