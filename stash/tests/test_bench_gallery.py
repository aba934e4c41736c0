"""`manage.py bench_gallery`: prints its numbers as one JSON line, refuses a folder of nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from performers.models import Performer
from recognition.tests.gallery_fixtures import photos_of


def test_a_folder_without_photos_per_identity_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No photos in folders per identity"):
        call_command("bench_gallery", "--folder", str(tmp_path))


def test_a_labelled_folder_prints_times_and_names_scored(
    enrolled: dict[str, Performer], tmp_path: Path
) -> None:
    for identity in ("Bill_Simon", "Venus_Williams"):  # enrolled, and an outsider
        (tmp_path / identity).mkdir()
        for photo in photos_of(identity)[-2:]:
            (tmp_path / identity / photo.name).symlink_to(photo)
    out = StringIO()
    call_command("bench_gallery", "--folder", str(tmp_path), stdout=out)
    result = json.loads(out.getvalue())
    assert (result["images"], result["identities"]) == (4, 2)
    for rule in ("gallery_rule", "single_image_rule"):
        assert result[rule]["wrong"] == 0, result[rule]
        assert result[rule]["right"] >= 1
    assert result["peak_rss_mb_after_gallery"] >= result["peak_rss_mb_before"] > 0
