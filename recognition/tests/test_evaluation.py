from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from recognition.engine import Detection
from recognition.engine.profile import Profile
from recognition.engine.types import Embeddings, ImageBGR, Metric
from recognition.evaluation import (
    EmbeddingCache,
    evaluate_directory,
    evaluate_pairs,
    fit_calibration,
    list_identities,
    render_report_html,
)
from recognition.tests.engine.support import FACES, default_profile_or_skip, faces_or_skip


class ColourProfile(Profile):
    """A stand-in profile whose 'face' is the whole image and whose embedding is its colour."""

    name = "colour"
    dim = 3
    metric: Metric = "l2"
    models_dir = Path(".")

    @property
    def preprocessing(self) -> dict[str, Any]:
        return {}

    def model_hashes(self) -> dict[str, str]:
        return {}

    def providers(self) -> list[str]:
        return ["CPUExecutionProvider"]

    def detect(self, image_bgr: ImageBGR, *, upscale_to: int | None = None) -> list[Detection]:
        height, width = image_bgr.shape[:2]
        centre = ((width / 2, height / 2),) * 5
        return [Detection(0, 0, float(width), float(height), 0.9, centre)]

    def align(self, image_bgr: ImageBGR, detections: list[Detection]) -> list[ImageBGR]:
        return [np.asarray(cv2.resize(image_bgr, (32, 32)), np.uint8) for _ in detections]

    def embed_chips(self, chips: list[ImageBGR], *, augment: bool = True) -> Embeddings:
        return np.array([chip.reshape(-1, 3).mean(axis=0) / 255.0 for chip in chips], np.float32)


def write_photo(path: Path, colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((40, 40, 3), colour, np.uint8))


@pytest.fixture
def colour_set(tmp_path: Path) -> Path:
    """3 known identities (gallery + probes) and 2 outsiders of clearly different colours."""
    known = {"red": (0, 0, 200), "green": (0, 200, 0), "blue": (200, 0, 0)}
    for name, (b, g, r) in known.items():
        for index, shift in enumerate((0, 6, 12)):
            write_photo(tmp_path / name / f"{index + 1:03d}.png", (b + shift, g + shift, r))
    write_photo(tmp_path / "grey" / "001.png", (128, 128, 128))
    write_photo(tmp_path / "white" / "001.png", (250, 250, 250))
    write_photo(tmp_path / "_group" / "001.png", (0, 0, 0))
    return tmp_path


def test_list_identities_sorts_photos_and_leaves_out_underscore_folders(colour_set: Path) -> None:
    identities = list_identities(colour_set)

    assert sorted(identities) == ["blue", "green", "grey", "red", "white"]
    assert [path.name for path in identities["red"]] == ["001.png", "002.png", "003.png"]


def test_evaluate_directory_names_the_probes_and_rejects_the_outsiders(colour_set: Path) -> None:
    profile = ColourProfile()
    cache = EmbeddingCache(profile)
    calibrator = fit_calibration(profile, colour_set, cache=cache)

    result = evaluate_directory(profile, colour_set, calibrator=calibrator, cache=cache)

    assert result["counts"]["probes"] == 6
    assert result["counts"]["distractors"] == 2
    assert result["rank1"] == 1.0
    assert result["distractor_accept_rate"] == 0.0
    assert result["precision"] == 1.0 and result["recall"] == 1.0
    assert result["tar_at_far_1pct"] == 1.0
    assert result["failures"] == []
    json.dumps(result)


def test_evaluate_directory_counts_an_outsider_named_as_someone(colour_set: Path) -> None:
    write_photo(colour_set / "dark_red" / "001.png", (2, 2, 198))  # looks like "red"
    profile = ColourProfile()

    result = evaluate_directory(profile, colour_set)

    assert result["distractors_accepted"] == 1
    assert result["distractor_accept_rate"] == pytest.approx(1 / 3)
    assert result["precision"] < 1.0
    assert result["failures"][-1]["expected"] == "dark_red"
    assert result["failures"][-1]["named"] == "red"


def test_evaluate_pairs_runs_the_ten_fold_protocol(tmp_path: Path) -> None:
    for name, colour in {"Ann": (0, 0, 200), "Bob": (0, 200, 0), "Cy": (200, 0, 0)}.items():
        for number in (1, 2):
            write_photo(tmp_path / name / f"{name}_{number:04d}.jpg", colour)
    lines = ["2\t2", "Ann\t1\t2", "Bob\t1\t2", "Ann\t1\tBob\t1", "Bob\t2\tCy\t1"]
    lines += ["Cy\t1\t2", "Ann\t2\t1", "Cy\t2\tAnn\t1", "Bob\t1\tCy\t2"]
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("\n".join(lines) + "\n")

    result = evaluate_pairs(ColourProfile(), pairs, tmp_path)

    assert result["pairs"] == 8
    assert result["accuracy"] == 1.0
    assert result["std"] == 0.0
    assert len(result["folds"]) == 2
    assert result["missing_faces"] == 0


def test_render_report_html_draws_roc_and_histograms_and_escapes_names(colour_set: Path) -> None:
    write_photo(colour_set / "<i>odd&name" / "001.png", (2, 2, 198))
    result = evaluate_directory(ColourProfile(), colour_set)

    page = render_report_html(result)

    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 2
    assert "<i>odd" not in page and "&lt;i&gt;odd&amp;name" in page
    assert "data:image/jpeg;base64," in page


@pytest.mark.models
@pytest.mark.slow
def test_the_default_profile_meets_the_dev_set_target() -> None:
    profile = default_profile_or_skip()

    result = evaluate_directory(profile, faces_or_skip(FACES))

    assert result["counts"]["probes"] >= 100
    assert result["rank1"] >= 0.99
    assert result["distractors_accepted"] == 0
