"""Every index fits its own threshold (and, with enough genuine searches, its own curve)."""

from __future__ import annotations

from itertools import count

import numpy as np
import pytest
from django.test import override_settings

from performers.services import performer_create
from recognition.configured_profile import serving_profile
from recognition.gallery_calibration import matrix_self_calibration
from recognition.models import Face, IndexBuild
from recognition.scoring import default_calibrator
from recognition.services import index_build, index_calibration_set, index_update

_seeds = count(100)


def _clustered(
    people: int, per_person: int, spread: float, dim: int = 32, seed: int | None = None
) -> np.ndarray:
    rng = np.random.default_rng(next(_seeds) if seed is None else seed)
    centres = rng.normal(size=(people, dim))
    rows = np.vstack([c + rng.normal(scale=spread, size=(per_person, dim)) for c in centres])
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_a_gallery_with_several_faces_a_person_fits_its_own_curve_and_holds_the_far() -> None:
    embeddings = _clustered(people=120, per_person=3, spread=0.08)
    keys = [f"p{index // 3}" for index in range(len(embeddings))]

    calibrator = matrix_self_calibration(
        embeddings, keys, profile="scrfd-mobilefacenet", metric="cosine", target_far=0.01
    )

    assert calibrator.stats["curve"] == "gallery"
    assert calibrator.stats["genuine"] >= 100 and calibrator.stats["impostor"] == 360
    assert calibrator.stats["far"] <= 0.01
    # A new photo of a gallery person (near a centre) is named; an outsider is not.
    person = embeddings[:3].mean(axis=0)
    outsider = _clustered(people=1, per_person=1, spread=0.0)[0]
    from recognition.scoring import rank_identities

    def named(probe: np.ndarray) -> list[str]:
        distances = 1.0 - embeddings @ (probe / np.linalg.norm(probe))
        order = np.argsort(distances)[:20]
        matches = rank_identities([keys[i] for i in order], distances[order], calibrator=calibrator)
        return [str(match.performer_key) for match in matches]

    assert named(person) == ["p0"]
    assert named(outsider) == []


def test_a_gallery_of_one_photo_each_decides_on_distance_and_models_the_impostor_tail() -> None:
    # Fixed draws, whatever ran before in this process: the share of new outsiders the
    # modelled tail names varies from draw to draw (0.5 % to 4.4 % over 30 draws of this
    # gallery), so a draw taken from a shared counter made the test depend on test order.
    embeddings = _clustered(people=300, per_person=1, spread=0.0, seed=100)
    keys = [f"p{index}" for index in range(len(embeddings))]

    calibrator = matrix_self_calibration(
        embeddings, keys, profile="scrfd-mobilefacenet", metric="cosine", target_far=0.01
    )

    # No genuine search to fit a curve on: the distance alone decides.
    assert calibrator.stats["curve"] == "distance only" and calibrator.weights[1] == 0
    assert calibrator.stats["genuine"] == 0 and calibrator.stats["impostor"] == 300
    # 300 samples put 3 beyond a 1 % quantile: the tail is modelled, not read off.
    assert calibrator.stats["threshold_method"].startswith("normal tail")
    assert calibrator.stats["far_in_samples"] <= 0.03
    # New outsiders (people of the same population) are named about as rarely as asked.
    outsiders = _clustered(people=2000, per_person=1, spread=0.0, seed=101)
    distances = 1.0 - outsiders @ embeddings.T
    nearest = np.sort(distances, axis=1)[:, :2]
    features = np.column_stack([nearest[:, 0], np.minimum(nearest[:, 1] - nearest[:, 0], 1.0)])
    assert (calibrator.confidences(features) >= calibrator.threshold).mean() <= 0.02


def test_with_enough_impostors_beyond_it_the_threshold_is_their_own_quantile() -> None:
    embeddings = _clustered(people=1500, per_person=1, spread=0.0, dim=16)
    keys = [f"p{index}" for index in range(len(embeddings))]

    calibrator = matrix_self_calibration(
        embeddings, keys, profile="scrfd-mobilefacenet", metric="cosine", target_far=0.01
    )

    assert calibrator.stats["threshold_method"] == "empirical"
    assert calibrator.stats["far"] == calibrator.stats["far_in_samples"] <= 0.01


def test_a_gallery_of_a_few_people_far_apart_keeps_the_profiles_threshold() -> None:
    # Three people at right angles: every impostor search is 1.0 away, and a tail fitted to
    # three samples would name anyone nearer than that.
    embeddings = np.eye(3, 32, dtype=np.float32)
    default = default_calibrator("scrfd-mobilefacenet", "cosine")

    calibrator = matrix_self_calibration(
        embeddings, ["a", "b", "c"], profile="scrfd-mobilefacenet", metric="cosine", target_far=0.01
    )

    assert calibrator.stats["threshold_method"] == "profile default"
    assert calibrator.stats["impostor"] == 3 and calibrator.threshold == default.threshold
    # An outsider nearer than any impostor seen, yet far by the profile's rule, is not named.
    outsider = np.array([[0.8, 0.0]])
    assert calibrator.confidences(outsider)[0] < calibrator.threshold


def test_impostor_searches_all_alike_are_not_let_through_by_their_modelled_tail() -> None:
    # 25 people at right angles: 25 identical impostor distances, a spread of zero.
    embeddings = np.eye(25, 32, dtype=np.float32)
    keys = [f"p{index}" for index in range(25)]

    calibrator = matrix_self_calibration(
        embeddings, keys, profile="scrfd-mobilefacenet", metric="cosine", target_far=0.01
    )

    assert calibrator.stats["threshold_method"].startswith("normal tail")
    assert calibrator.stats["far_in_samples"] == 0.0


def test_a_smaller_target_far_asks_for_more_confidence() -> None:
    embeddings = _clustered(people=200, per_person=2, spread=0.3)
    keys = [f"p{index // 2}" for index in range(len(embeddings))]

    loose, strict = (
        matrix_self_calibration(
            embeddings, keys, profile="scrfd-mobilefacenet", metric="cosine", target_far=far
        )
        for far in (0.1, 0.01)
    )

    assert strict.threshold > loose.threshold
    assert strict.stats["far"] <= 0.01 < loose.stats["far"] <= 0.1


def _faces(people: int, per_person: int) -> list[Face]:
    vectors = _clustered(people=people, per_person=per_person, spread=0.1)
    faces = []
    for person in range(people):
        performer = performer_create(name=f"Calibrated {person} {next(_seeds)}")
        for vector in vectors[person * per_person : (person + 1) * per_person]:
            faces.append(
                Face.objects.create(
                    performer=performer, profile=serving_profile(), embedding=vector.tobytes()
                )
            )
    return faces


@pytest.mark.django_db
@pytest.mark.models
def test_a_built_index_carries_a_calibration_fitted_on_its_own_faces() -> None:
    _faces(people=40, per_person=2)

    build = index_build()

    stats = build.calibration["stats"]
    assert stats["source"] == "gallery" and stats["faces"] == 80
    assert stats["impostor"] == 80 and stats["far"] <= stats["target_far"] == 0.01
    assert "fitted_at" in stats and 0 < build.calibration["threshold"] < 1


@pytest.mark.django_db
@pytest.mark.models
@override_settings(STASHSENSE_RECALIBRATE_GROWTH=0.5)
def test_an_index_calibrates_itself_again_once_it_has_grown_by_the_set_fraction() -> None:
    _faces(people=20, per_person=2)
    first = index_build().calibration["stats"]["fitted_at"]

    _faces(people=5, per_person=2)  # 40 -> 50 faces: 25 % more, below the 50 % asked for
    assert index_update().calibration["stats"]["fitted_at"] == first  # type: ignore[union-attr]

    _faces(people=5, per_person=2)  # 60 faces: 50 % more than when it was fitted
    grown = index_update()

    assert grown is not None and grown.calibration["stats"]["fitted_at"] != first
    assert grown.calibration["stats"]["faces"] == 60


@pytest.mark.django_db
@pytest.mark.models
def test_a_calibration_fitted_on_labelled_photos_is_kept_as_the_gallery_grows() -> None:
    _faces(people=10, per_person=2)
    build = index_build()
    labelled = {**build.calibration, "stats": {"source": "labelled", "threshold_note": "kept"}}
    index_calibration_set(profile=build.profile, calibration=labelled)

    _faces(people=20, per_person=2)
    grown = index_update()
    rebuilt = index_build()

    assert grown is not None and grown.calibration["stats"]["source"] == "labelled"
    assert rebuilt.calibration["stats"]["source"] == "labelled"
    assert IndexBuild.objects.get(active=True, profile=build.profile).pk == rebuilt.pk
