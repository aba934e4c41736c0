from __future__ import annotations

import base64
import csv

import pytest
from rest_framework.test import APIClient

from performers.models import Performer
from recognition.tests.gallery_fixtures import FACES

pytestmark = [pytest.mark.django_db, pytest.mark.models]
SPRITES = FACES / "sprites"


def _cells() -> dict[int, str]:
    with (SPRITES / "dev_stills_cells.csv").open() as handle:
        return {int(row["index"]): row["identity"] for row in csv.DictReader(handle)}


def _scene(client: APIClient, **payload: object) -> dict:
    response = client.post("/api/v1/identify/scene", payload, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_sprite_names_the_enrolled_people_and_no_one_else(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    sprite = base64.b64encode((SPRITES / "dev_stills_sprite.jpg").read_bytes()).decode()
    body = _scene(
        api_client, sprite_base64=sprite, vtt=(SPRITES / "dev_stills_thumbs.vtt").read_text()
    )
    cells = _cells()
    assert body["frames"] == 25 and body["faces"] >= 24
    named: dict[str, str] = {}
    for person in body["persons"]:
        assert person["thumbnail"].startswith("data:image/jpeg;base64,")
        if person["matches"]:
            shown = sorted({cells[frame["index"]] for frame in person["frames"]})
            named[person["matches"][0]["performer"]["name"]] = "/".join(shown)
    # Every name given is right (21 of the 25 cells show people who are not in the gallery)...
    for name, shown_in in named.items():
        assert name.replace(" ", "_") in shown_in.split("/"), (name, shown_in)
    # ...and most of the enrolled people in the sprite are found: of the five, biden's face in
    # its cell is 12 px tall (below what can be told apart) and deepface_p02's match stays
    # under the confidence threshold, so three is what this gallery of 2-3 photos allows.
    enrolled_in_sprite = {c for c in cells.values() if c in enrolled}
    assert len(enrolled_in_sprite) == 5
    assert {"Bill Simon", "Carmen Electra", "deepface p01"} <= set(named)


def test_scene_frames_carry_their_cue_times(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    with (
        (SPRITES / "dev_stills_sprite.jpg").open("rb") as sprite,
        (SPRITES / "dev_stills_thumbs.vtt").open("rb") as vtt,
    ):
        response = api_client.post(
            "/api/v1/identify/scene", {"sprite": sprite, "vtt": vtt}, format="multipart"
        )
    assert response.status_code == 200
    starts = sorted(
        frame["start"] for person in response.json()["persons"] for frame in person["frames"]
    )
    assert starts[0] == 0.0 and 5.0 in starts


def test_a_list_of_frames_works_like_a_sprite(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    frames = [
        base64.b64encode((FACES / "Bill_Simon" / name).read_bytes()).decode()
        for name in ("006.jpg", "005.jpg")
    ]
    body = _scene(api_client, frames=frames)
    assert body["frames"] == 2
    assert body["persons"][0]["matches"][0]["performer"]["name"] == "Bill Simon"
    assert body["persons"][0]["appearances"] == 2


@pytest.mark.parametrize(
    ("vtt", "message"),
    [
        ("WEBVTT\n\n00:00:00.000 --> nonsense\nsprite.jpg#xywh=0,0,160,90\n", "line"),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nsprite.jpg#xywh=5000,0,160,90\n", "outside"),
    ],
    ids=["malformed", "outside-the-sprite"],
)
def test_a_bad_vtt_gets_a_clear_400(
    api_client: APIClient, enrolled: dict[str, Performer], vtt: str, message: str
) -> None:
    sprite = base64.b64encode((SPRITES / "dev_stills_sprite.jpg").read_bytes()).decode()
    response = api_client.post(
        "/api/v1/identify/scene", {"sprite_base64": sprite, "vtt": vtt}, format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["error"]["message"].lower()


def test_a_scene_request_without_frames_says_what_to_send(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    response = api_client.post("/api/v1/identify/scene", {"known_performer_ids": []}, format="json")
    assert response.status_code == 400 and "stash_scene_id" in response.json()["error"]["message"]


def test_a_stash_scene_id_without_a_configured_stash_is_a_clear_error(
    api_client: APIClient, enrolled: dict[str, Performer], settings: object
) -> None:
    setattr(settings, "STASH_URL", "")  # noqa: B010
    response = api_client.post("/api/v1/identify/scene", {"stash_scene_id": "12"}, format="json")
    assert response.status_code == 400 and "STASH_URL" in response.json()["error"]["message"]
