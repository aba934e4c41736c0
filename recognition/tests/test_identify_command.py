from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
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


def test_identify_with_a_missing_vtt_is_a_command_error_not_a_traceback(tmp_path: Any) -> None:
    with pytest.raises(CommandError, match=r"missing\.vtt is not a file"):
        call_command(
            "identify",
            str(SPRITES / "dev_stills_sprite.jpg"),
            "--vtt",
            str(tmp_path / "missing.vtt"),
        )


def test_identify_with_a_vtt_that_is_not_text_is_a_command_error(tmp_path: Any) -> None:
    binary = tmp_path / "binary.vtt"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 64)
    with pytest.raises(CommandError, match="cannot read the input"):
        call_command("identify", str(SPRITES / "dev_stills_sprite.jpg"), "--vtt", str(binary))
