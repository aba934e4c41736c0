from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from performers.models import Performer
from recognition.tests.gallery_fixtures import FACES, probe_photo

pytestmark = [pytest.mark.django_db, pytest.mark.models]
SPRITES = FACES / "sprites"


def _without_timings(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "timings_ms"}


def _command_body(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("identify", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_identify_json_prints_the_body_the_api_answers(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    photo = FACES / probe_photo("biden")
    with photo.open("rb") as handle:
        answered = api_client.post("/api/v1/identify", {"image": handle}, format="multipart")
    printed = _command_body(str(photo))
    assert answered.status_code == 200
    assert printed["faces"][0]["matches"][0]["performer"]["name"] == "biden"
    assert _without_timings(printed) == _without_timings(answered.json())


def test_identify_json_of_a_sprite_prints_the_scene_body_the_api_answers(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    sprite, vtt = SPRITES / "dev_stills_sprite.jpg", SPRITES / "dev_stills_thumbs.vtt"
    with sprite.open("rb") as image, vtt.open("rb") as cues:
        answered = api_client.post(
            "/api/v1/identify/scene", {"sprite": image, "vtt": cues}, format="multipart"
        )
    printed = _command_body(str(sprite), "--vtt", str(vtt))
    assert answered.status_code == 200 and printed["persons"]
    assert _without_timings(printed) == _without_timings(answered.json())
