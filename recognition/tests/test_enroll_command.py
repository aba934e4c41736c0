"""`manage.py enroll` adds labelled photos and leaves an index that identifies them."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from recognition.identification import identify_image
from recognition.models import Face, IndexBuild
from recognition.tests.engine.support import FACES, default_profile_or_skip

pytestmark = [pytest.mark.django_db, pytest.mark.models]


def _enroll(directory: Path) -> str:
    out = StringIO()
    call_command("enroll", str(directory), stdout=out, stderr=StringIO())
    return out.getvalue()


def test_enroll_builds_the_first_index_then_appends_and_a_new_photo_is_identified(
    tmp_path: Path,
) -> None:
    default_profile_or_skip()
    if not FACES.is_dir():
        pytest.skip(f"{FACES} is not present")
    gallery = tmp_path / "gallery"
    for identity in ["Bill_Simon", "Carmen_Electra"]:
        (gallery / identity).mkdir(parents=True)
        for photo in sorted((FACES / identity).glob("*.jpg"))[:2]:
            shutil.copy(photo, gallery / identity / photo.name)

    first = _enroll(gallery)

    build = IndexBuild.objects.get(active=True)
    assert build.faces == Face.objects.count() >= 3
    assert f"index #{build.pk}: {build.faces} faces" in first
    (gallery / "deepface_p01").mkdir()
    shutil.copy(sorted((FACES / "deepface_p01").glob("*.jpg"))[0], gallery / "deepface_p01")
    second = _enroll(gallery)
    assert IndexBuild.objects.get(active=True).pk == build.pk  # appended, not rebuilt
    assert f"index #{build.pk}: {Face.objects.count()} faces" in second

    probe = sorted((FACES / "Bill_Simon").glob("*.jpg"))[-1]
    result = identify_image(data=probe.read_bytes(), top_k=1, threshold=None)
    assert result.faces[0].matches[0].performer.name == "Bill Simon"
