"""Pure computations: gallery distances, scores, charts and links (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from curation.charts import bar_chart, unit_bins
from curation.face_distances import (
    PROFILE_THRESHOLDS,
    distance_to_rest,
    face_agreement,
    gallery_distance,
    outlier_score,
    pairwise_distances,
    thresholds_for,
)
from curation.links import endpoint_label, stash_id_page
from curation.templatetags.curation_extras import evidence_facts
from recognition.tests.factories import (
    DIM,
    METRIC,
    PROFILE,
    at_distance,
    face_near,
    identity_centre,
)

DLIB = PROFILE_THRESHOLDS["scrfd-dlib"]
# Synthetic faces are the default profile's: judge them by its thresholds, in its metric.
DEFAULT = thresholds_for(PROFILE)


def test_pairwise_l2_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    a, b = (
        rng.normal(size=(3, 128)).astype(np.float32),
        rng.normal(size=(4, 128)).astype(np.float32),
    )
    expected = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    assert np.allclose(pairwise_distances(a, b, "l2"), expected, atol=1e-4)


def test_pairwise_cosine_is_one_minus_cosine_similarity() -> None:
    a = np.array([[1.0, 0.0]], dtype=np.float32)
    b = np.array([[2.0, 0.0], [0.0, 3.0]], dtype=np.float32)
    assert np.allclose(pairwise_distances(a, b, "cosine"), [[0.0, 1.0]], atol=1e-6)


def test_gallery_distance_separates_same_and_different_people() -> None:
    anna, bea = identity_centre(1), identity_centre(2)
    first = np.stack([face_near(anna, i) for i in range(5)])
    second = np.stack([face_near(anna, 100 + i) for i in range(4)])
    other = np.stack([face_near(bea, i) for i in range(4)])
    same, different = (
        gallery_distance(first, second, METRIC),
        gallery_distance(first, other, METRIC),
    )
    assert same is not None and same < DEFAULT.same
    assert different is not None and different > DEFAULT.different
    assert gallery_distance(first, np.zeros((0, DIM), np.float32), METRIC) is None


def test_one_lookalike_photo_does_not_make_two_people_one() -> None:
    anna, bea = identity_centre(1), identity_centre(2)
    first = np.stack([face_near(anna, i) for i in range(5)])
    # Bea's gallery holds one photo that is really Anna's.
    second = np.stack([face_near(bea, i) for i in range(4)] + [face_near(anna, 50)])
    distance = gallery_distance(first, second, METRIC)
    assert distance is not None and distance > DEFAULT.different


def test_face_agreement_is_calibrated_at_the_thresholds() -> None:
    assert face_agreement(DLIB.same, DLIB) == pytest.approx(0.8)
    assert face_agreement(DLIB.different, DLIB) == pytest.approx(0.2)
    assert face_agreement(0.3, DLIB) > 0.99 and face_agreement(0.9, DLIB) < 0.01


def test_outlier_distance_and_score() -> None:
    centre = identity_centre(3)
    rest = np.stack([face_near(centre, i) for i in range(5)])
    stranger = at_distance(centre, DEFAULT.contradiction_min + 0.2, seed=1)
    distance = distance_to_rest(stranger, rest, METRIC)
    assert distance is not None and distance > DEFAULT.outlier_min
    assert outlier_score(distance, DEFAULT) == 1.0
    assert outlier_score(DEFAULT.same - 0.1, DEFAULT) == 0.0


def test_unknown_profiles_get_cosine_thresholds() -> None:
    assert thresholds_for("scrfd-dlib").metric == "l2"
    assert thresholds_for("buffalo_l").metric == "cosine"


def test_bar_chart_scales_to_the_tallest_bar() -> None:
    chart = bar_chart(
        "t", [0, 5, 10], ["a", "b", "c"], width=300, height=120, label_band=20, top_band=0
    )
    assert [bar.height for bar in chart.bars] == [0.0, 50.0, 100.0]
    assert chart.bars[2].y == 0.0 and chart.total == 15
    assert bar_chart("empty", [0, 0], ["a", "b"]).bars[0].height == 0.0
    assert unit_bins(4) == ["0.0", "0.2", "0.5", "0.8"]


def test_bar_chart_leaves_room_for_values_and_links_each_bar() -> None:
    chart = bar_chart(
        "t", [2, 4], ["a", "b"], height=100, label_band=20, top_band=16, links=["/a", "/b"]
    )
    assert chart.bars[1].y == 16.0 and chart.bars[1].height == 64.0
    assert [bar.href for bar in chart.bars] == ["/a", "/b"]


@pytest.mark.parametrize(
    ("endpoint", "page"),
    [
        ("https://stashdb.org/graphql", "https://stashdb.org/performers/abc"),
        ("https://fansdb.cc/graphql/", "https://fansdb.cc/performers/abc"),
        ("https://box.example/sub/graphql", "https://box.example/sub/performers/abc"),
        ("https://api.theporndb.net", "https://theporndb.net/performers/abc"),
        ("javascript:alert(1)", ""),
    ],
)
def test_stash_id_pages(endpoint: str, page: str) -> None:
    assert stash_id_page(endpoint, "abc") == page


def test_endpoint_label_is_the_host() -> None:
    assert endpoint_label("https://www.stashdb.org/graphql") == "stashdb.org"


def test_evidence_details_read_as_words() -> None:
    facts = evidence_facts(
        {"distance": 0.4123456789012345, "metric": "l2", "faces": [4, 3], "compared_with": 1}
    )
    assert facts == [
        ("Face distance", "0.41"),
        ("Measured as", "straight-line (L2) distance"),
        ("Faces compared", "4 and 3"),
        ("Compared with", "1 other face"),
    ]
