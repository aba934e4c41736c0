from __future__ import annotations

import numpy as np
import pytest

from recognition.clustering import (
    FaceMatch,
    VotingParams,
    cluster_faces,
    scene_persons,
    vote_person,
)


def _person_faces(rng: np.random.Generator, centre: np.ndarray, count: int) -> np.ndarray:
    # dlib-like: same-person L2 around 0.4 in 128-d.
    return centre + rng.normal(0.0, 0.4 / np.sqrt(2 * 128), size=(count, 128))


def _two_people_over_frames() -> tuple[np.ndarray, list[int], list[str]]:
    rng = np.random.default_rng(0)
    alice, bob = rng.normal(0.0, 0.07, size=(2, 128))  # ~0.8 apart, like strangers
    faces, frames, owners = [], [], []
    for frame in range(12):
        if frame % 3 != 2:
            faces.append(_person_faces(rng, alice, 1)[0])
            frames.append(frame)
            owners.append("alice")
        if frame % 2 == 0:
            faces.append(_person_faces(rng, bob, 1)[0])
            frames.append(frame)
            owners.append("bob")
    return np.array(faces), frames, owners


def test_two_people_seen_over_many_frames_become_two_persons() -> None:
    embeddings, frames, owners = _two_people_over_frames()

    groups = cluster_faces(embeddings, frames, metric="l2")

    assert len(groups) == 2
    assert sorted({owners[face] for face in group}.pop() for group in groups) == ["alice", "bob"]
    for group in groups:
        assert len({owners[face] for face in group}) == 1


@pytest.mark.parametrize("method", ["average", "complete"])
def test_two_faces_of_the_same_frame_are_never_merged_even_when_identical(method: str) -> None:
    rng = np.random.default_rng(1)
    centre = rng.normal(0.0, 0.07, size=128)
    embeddings = _person_faces(rng, centre, 6)
    embeddings[1] = embeddings[0]  # a mirror or a duplicate detection in frame 0
    frames = [0, 0, 1, 2, 2, 3]

    groups = cluster_faces(embeddings, frames, metric="l2", method=method)

    for group in groups:
        group_frames = [frames[face] for face in group]
        assert len(group_frames) == len(set(group_frames))
    assert len(groups) == 2
    assert sum(len(group) for group in groups) == 6


def test_cosine_clustering_uses_its_own_cut() -> None:
    rng = np.random.default_rng(2)
    directions = rng.normal(size=(2, 512))
    faces = np.vstack([directions[0] + rng.normal(0, 0.6, size=(4, 512)), directions[1] * 2])
    frames = [0, 1, 2, 3, 3]

    groups = cluster_faces(faces, frames, metric="cosine")

    assert groups == [[0, 1, 2, 3], [4]]


def test_no_faces_and_one_face_are_handled() -> None:
    assert cluster_faces(np.zeros((0, 128)), [], metric="l2") == []
    assert cluster_faces(np.zeros((1, 128)), [4], metric="l2") == [[0]]


def _matches(*pairs: tuple[str, float]) -> list[FaceMatch]:
    return [FaceMatch(performer_key=key, score=conf, confidence=conf) for key, conf in pairs]


def test_faces_of_a_person_vote_and_good_faces_outweigh_a_bad_one() -> None:
    candidates = [
        _matches(("ana", 0.8), ("bea", 0.3)),
        _matches(("ana", 0.7)),
        _matches(("bea", 0.9), ("ana", 0.4)),  # a blurry face that looks like someone else
    ]
    qualities = [1.0, 0.9, 0.2]

    matches = vote_person([0, 1, 2], candidates, qualities)

    assert [match.performer_key for match in matches] == ["ana", "bea"]
    assert [match.votes for match in matches] == [2, 1]
    ana = matches[0]
    assert ana.confidence == pytest.approx((0.8 + 0.9 * 0.7 + 0.2 * 0.4) / (2.1 + 0.5))
    assert 0.0 <= matches[1].confidence < ana.confidence


def test_one_small_face_alone_never_gives_a_confident_name() -> None:
    matches = vote_person([0], [_matches(("ana", 0.95))], [0.15])

    assert matches[0].performer_key == "ana"
    assert matches[0].confidence < 0.3
    assert matches[0].votes == 1


def test_many_agreeing_good_faces_give_a_confident_name() -> None:
    candidates = [_matches(("ana", 0.9)) for _ in range(10)]

    matches = vote_person(range(10), candidates, [1.0] * 10)

    assert matches[0].confidence > 0.85


def test_known_cast_breaks_a_close_call_in_its_favour() -> None:
    candidates = [_matches(("ana", 0.5), ("bea", 0.45)) for _ in range(4)]

    without = vote_person(range(4), candidates, [1.0] * 4)
    with_cast = vote_person(range(4), candidates, [1.0] * 4, known_performers={"bea"})

    assert without[0].performer_key == "ana"
    assert with_cast[0].performer_key == "bea"
    assert with_cast[0].confidence > without[1].confidence
    assert with_cast[0].votes == 0  # the prior does not invent votes


def test_known_cast_never_overrides_strong_evidence_for_someone_else() -> None:
    # Without the cap the boost would lift bea (0.74 -> 0.89) above ana (0.85).
    candidates = [_matches(("ana", 0.92), ("bea", 0.8)) for _ in range(6)]

    matches = vote_person(range(6), candidates, [1.0] * 6, known_performers={"bea"})

    assert matches[0].performer_key == "ana"
    assert matches[1].confidence < matches[0].confidence


def test_known_cast_does_not_name_a_performer_nobody_resembles() -> None:
    matches = vote_person([0], [_matches(("ana", 0.6))], [1.0], known_performers={"zoe"})

    assert [match.performer_key for match in matches] == ["ana"]


def test_a_scene_becomes_persons_with_frames_best_face_and_matches() -> None:
    embeddings, frames, owners = _two_people_over_frames()
    candidates = [
        _matches(("alice-key", 0.8)) if owner == "alice" else _matches(("bob-key", 0.7))
        for owner in owners
    ]
    qualities = [0.5 + 0.01 * face for face in range(len(owners))]

    persons = scene_persons(
        embeddings, frames, qualities, candidates, metric="l2", params=VotingParams(max_matches=1)
    )

    assert len(persons) == 2
    alice = next(p for p in persons if p.matches[0].performer_key == "alice-key")
    assert alice.frames == sorted({f for f, o in zip(frames, owners, strict=True) if o == "alice"})
    assert alice.best_face_index == max(alice.face_indices)
    assert alice.matches[0].votes == len(alice.face_indices)
