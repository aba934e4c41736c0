"""`reembed --profile`: a gallery moves to another profile beside the old one, resumably."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from recognition.configured_profile import serving_profile, serving_profile_forget
from recognition.engine.profile_registry import DLIB_PROFILE, MOBILEFACENET_PROFILE
from recognition.models import Face, IndexBuild
from recognition.tests.engine.support import FACES, profile_or_skip

pytestmark = [pytest.mark.django_db, pytest.mark.models]

PEOPLE = ["obama", "biden", "kit_harington"]


@pytest.fixture
def dlib_gallery(tmp_path: Path, settings: Any) -> Path:
    """Three people enrolled by scrfd-dlib from a folder of their photos (all but the last)."""
    profile_or_skip(DLIB_PROFILE)
    profile_or_skip(MOBILEFACENET_PROFILE)
    folder = tmp_path / "gallery"
    for person in PEOPLE:
        (folder / person).mkdir(parents=True)
        for photo in sorted((FACES / person).iterdir())[:-1][:2]:
            shutil.copy(photo, folder / person / photo.name)
    settings.STASHSENSE_PROFILE = DLIB_PROFILE
    call_command("enroll", str(folder), stdout=io.StringIO())
    settings.STASHSENSE_PROFILE = ""  # as an install that never set it: it serves its gallery
    serving_profile_forget()
    return folder


def _identify(client: APIClient, photo: Path) -> dict[str, Any]:
    with photo.open("rb") as handle:
        response = client.post("/api/v1/identify", {"image": handle}, format="multipart")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _reembed(*args: str) -> str:
    out = io.StringIO()
    call_command("reembed", "--profile", MOBILEFACENET_PROFILE, *args, stdout=out)
    serving_profile_forget()
    return out.getvalue()


def test_a_gallery_moves_to_the_new_profile_and_serves_it_once_complete(
    dlib_gallery: Path, api_client: APIClient
) -> None:
    old = list(Face.objects.filter(profile=DLIB_PROFILE).order_by("pk"))
    assert serving_profile() == DLIB_PROFILE and len(old) >= 5

    first = _reembed("--limit", "2")

    assert "2 faces embedded" in first and "not switched" in first
    assert serving_profile() == DLIB_PROFILE  # the old index serves until the new one is whole
    assert Face.objects.filter(profile=MOBILEFACENET_PROFILE).count() == 2

    rest = _reembed()

    left = len(old) - 2
    assert f"{left} faces embedded by scrfd-mobilefacenet ({left} from their photo" in rest
    assert serving_profile() == MOBILEFACENET_PROFILE
    made = Face.objects.filter(profile=MOBILEFACENET_PROFILE)
    assert sorted(made.values_list("source_face_id", flat=True)) == [face.pk for face in old]
    for face in made:
        source = next(f for f in old if f.pk == face.source_face_id)
        assert face.performer_id == source.performer_id and face.image_id == source.image_id
        assert len(face.vector()) == 192
    build = IndexBuild.objects.get(profile=MOBILEFACENET_PROFILE, active=True)
    assert build.faces == len(old) and build.calibration["stats"]["source"] == "gallery"
    assert IndexBuild.objects.filter(profile=DLIB_PROFILE, active=True).exists()  # kept, unused

    probe = sorted((FACES / "biden").iterdir())[-1]
    body = _identify(api_client, probe)
    assert body["profile"] == MOBILEFACENET_PROFILE
    assert body["faces"][0]["matches"][0]["performer"]["name"] == "biden"


def test_a_face_whose_photo_is_gone_is_embedded_again_from_its_kept_crop(
    dlib_gallery: Path, api_client: APIClient
) -> None:
    shutil.rmtree(dlib_gallery / "kit_harington")
    old = Face.objects.filter(profile=DLIB_PROFILE)
    kept = old.filter(performer__name="kit harington").count()

    out = _reembed()

    photos = old.count() - kept
    assert f"({photos} from their photo, {kept} from their kept crop), 0 without" in out
    kit = Face.objects.filter(profile=MOBILEFACENET_PROFILE, performer__name="kit harington")
    assert kit.count() == kept >= 1
    probe = sorted((FACES / "kit_harington").iterdir())[-1]
    best = _identify(api_client, probe)["faces"][0]["matches"][0]
    assert best["performer"]["name"] == "kit harington"


def test_running_it_again_adds_nothing_twice(dlib_gallery: Path) -> None:
    _reembed()
    with pytest.raises(CommandError, match="already of profile 'scrfd-mobilefacenet'"):
        _reembed()  # it serves the new profile now: nothing to move from
    again = _reembed("--from-profile", DLIB_PROFILE)

    assert "0 faces embedded" in again
    made = Face.objects.filter(profile=MOBILEFACENET_PROFILE).count()
    assert made == Face.objects.filter(profile=DLIB_PROFILE).count()
