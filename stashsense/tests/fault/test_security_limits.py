"""Size and pixel limits, checked on the real server: 413 for bytes, 400 for pixels.

The served stack runs with 2 MiB uploads and 4 megapixels (see conftest), so every way of
sending an image (multipart, base64 JSON, sprites, frames) is tried just past those limits.
"""

from __future__ import annotations

import base64
import io
import os
from typing import Any

import requests
from PIL import Image

from stashsense.tests.fault.conftest import MAX_IMAGE_PIXELS, MAX_UPLOAD_BYTES, Served
from stashsense.tests.fault.stack import FACES, STACK_API_KEY

HEADERS = {"X-Api-Key": STACK_API_KEY}
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nscene_sprite.jpg#xywh=0,0,160,90\n"


def post(served: Served, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{served.server.url}{path}", headers=HEADERS, timeout=120, **kwargs)


def error_of(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def too_many_pixels_jpeg() -> bytes:
    """A small file (flat colour) of more pixels than the server takes."""
    side = int(MAX_IMAGE_PIXELS**0.5) + 100
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (120, 110, 100)).save(buffer, "JPEG", quality=50)
    assert len(buffer.getvalue()) < MAX_UPLOAD_BYTES
    return buffer.getvalue()


def test_every_way_of_sending_too_many_bytes_gets_413(served: Served) -> None:
    big = os.urandom(MAX_UPLOAD_BYTES + 1024)
    big_base64 = base64.b64encode(big).decode()
    answers = {
        "image upload": post(served, "/api/v1/identify", files={"image": ("big.jpg", big)}),
        "image_base64": post(served, "/api/v1/identify", json={"image_base64": big_base64}),
        "sprite upload": post(
            served, "/api/v1/identify/scene", files={"sprite": ("s.jpg", big)}, data={"vtt": VTT}
        ),
        "vtt upload": post(
            served,
            "/api/v1/identify/scene",
            files={"sprite": ("s.jpg", b"tiny"), "vtt": ("s.vtt", big)},
        ),
        "sprite_base64": post(
            served, "/api/v1/identify/scene", json={"sprite_base64": big_base64, "vtt": VTT}
        ),
        "one of the frames": post(
            served, "/api/v1/identify/scene", json={"frames": ["AAAA", big_base64]}
        ),
    }
    for how, response in answers.items():
        assert error_of(response) == (413, "too_large"), (how, response.text)


def test_an_image_of_too_many_pixels_gets_400_before_it_is_decoded(served: Served) -> None:
    image = too_many_pixels_jpeg()
    upload = post(served, "/api/v1/identify", files={"image": ("wide.jpg", image)})
    assert error_of(upload) == (400, "too_large"), upload.text
    frame = base64.b64encode(image).decode()
    scene = post(served, "/api/v1/identify/scene", json={"frames": [frame]})
    assert error_of(scene) == (400, "too_large"), scene.text


def test_a_nul_character_in_the_known_cast_gets_400_not_a_database_error(served: Served) -> None:
    frame = base64.b64encode((FACES / "obama" / "007.jpg").read_bytes()).decode()
    for known in (["a\x00b"], [{"endpoint": "https://stashdb.org/graphql", "stash_id": "\x00"}]):
        response = post(
            served, "/api/v1/identify/scene", json={"frames": [frame], "known_performer_ids": known}
        )
        assert error_of(response) == (400, "invalid"), response.text
    alright = post(
        served, "/api/v1/identify/scene", json={"frames": [frame], "known_performer_ids": ["x"]}
    )
    assert alright.status_code == 200, alright.text
