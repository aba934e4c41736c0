"""`POST /identify` with `stash_image_id` and `POST /identify/gallery` with `stash_gallery_id`,
end to end: a fake Stash executing its schema serves real photos, the real models identify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from fakes.stash_server import FakeGallery, FakeImage, FakePerformer, FakeStash
from performers.models import Performer
from recognition.tests.gallery_fixtures import STASHDB, photos_of
from stash.tests.stash_scenes import STILLS_VTT, stash

__all__ = ["stash"]

OUTSIDER = "Venus_Williams"  # not in the `enrolled` gallery


def unseen_photos(identity: str, count: int) -> list[Path]:
    """Photos of an enrolled identity that its gallery does not hold (gallery_photos)."""
    photos = photos_of(identity)
    return photos[3:][:count] if len(photos) > 4 else photos[-1:]


def post(api_client: APIClient, path: str, body: dict[str, Any]) -> Any:
    return api_client.post(f"/api/v1/{path}", body, format="json")


def error_of(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


# --- one image ---------------------------------------------------------------------------------


def test_a_stash_image_is_fetched_with_the_api_key_and_its_person_named(
    api_client: APIClient, enrolled: dict[str, Performer], stash: FakeStash
) -> None:
    stash.add_image(FakeImage("5", unseen_photos("Bill_Simon", 1)[0]))
    response = post(api_client, "identify", {"stash_image_id": "5"})
    assert response.status_code == 200, response.json()
    best = response.json()["faces"][0]["matches"][0]
    assert best["performer"]["id"] == str(enrolled["Bill_Simon"].pk)
    [fetch] = stash.requests_to("/image/5/image")
    assert fetch.headers["apikey"] == stash.api_key


def test_a_stash_image_that_is_no_picture_is_a_clear_422(
    api_client: APIClient, enrolled: dict[str, Performer], stash: FakeStash
) -> None:
    stash.add_image(FakeImage("6", STILLS_VTT))
    status, _, message = error_of(post(api_client, "identify", {"stash_image_id": "6"}))
    assert status == 422 and message.startswith("Stash image 6:")


@pytest.mark.parametrize(
    ("image", "status", "code"),
    [
        (None, 404, "image_not_found"),
        (FakeImage("7", None, video=True), 422, "image_is_video"),
        (FakeImage("7", None), 422, "image_file_missing"),
    ],
)
def test_a_stash_image_that_cannot_be_identified_says_why(
    api_client: APIClient, stash: FakeStash, image: FakeImage | None, status: int, code: str
) -> None:
    if image is not None:
        stash.add_image(image)
    assert error_of(post(api_client, "identify", {"stash_image_id": "7"}))[:2] == (status, code)


def test_a_stash_image_over_the_upload_limit_is_refused_before_downloading(
    api_client: APIClient, stash: FakeStash, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    stash.add_image(FakeImage("8", unseen_photos("Bill_Simon", 1)[0]))
    status, code, message = error_of(post(api_client, "identify", {"stash_image_id": "8"}))
    assert (status, code) == (413, "too_large") and "1024 bytes limit" in message
    assert stash.requests_to("/image/8/image") == []


def test_stash_refusing_the_api_key_or_failing_is_a_502(
    api_client: APIClient, stash: FakeStash, settings: Any
) -> None:
    stash.add_image(FakeImage("9", unseen_photos("Bill_Simon", 1)[0]))
    settings.STASH_API_KEY = "wrong"
    assert error_of(post(api_client, "identify", {"stash_image_id": "9"}))[:2] == (
        502,
        "stash_auth",
    )
    settings.STASH_API_KEY = stash.api_key
    stash.fail_next(3, status=500, path="/graphql")
    assert error_of(post(api_client, "identify", {"stash_image_id": "9"}))[:2] == (
        502,
        "stash_unreachable",
    )


@pytest.mark.parametrize("value", ["abc", "1; drop", "-1", 1.5])
def test_a_stash_image_id_that_is_no_number_is_a_400(
    api_client: APIClient, stash: FakeStash, value: Any
) -> None:
    status, _, message = error_of(post(api_client, "identify", {"stash_image_id": value}))
    assert status == 400 and "stash_image_id" in message
    assert stash.request_count("/graphql") == 0


# --- a gallery ---------------------------------------------------------------------------------


def gallery_of(stash: FakeStash, gallery_id: str, photos: list[Path]) -> list[str]:
    """A gallery holding `photos` as images numbered from gallery_id * 100; their ids."""
    stash.add_gallery(FakeGallery(gallery_id, f"Gallery {gallery_id}"))
    ids = [str(int(gallery_id) * 100 + n) for n in range(len(photos))]
    for image_id, photo in zip(ids, photos, strict=True):
        stash.add_image(FakeImage(image_id, photo, gallery_ids=[gallery_id]))
    return ids


def named(person: dict[str, Any]) -> str | None:
    return person["matches"][0]["performer"]["id"] if person["matches"] else None


def test_a_gallery_names_the_enrolled_not_the_outsider_and_lists_their_images(
    api_client: APIClient, enrolled: dict[str, Performer], stash: FakeStash
) -> None:
    bill, carmen = unseen_photos("Bill_Simon", 2), unseen_photos("Carmen_Electra", 2)
    outsider = photos_of(OUTSIDER)[:2]
    ids = gallery_of(stash, "3", [*bill, *carmen, *outsider])
    bill_ids, carmen_ids, outsider_ids = set(ids[:2]), set(ids[2:4]), set(ids[4:])
    response = post(api_client, "identify/gallery", {"stash_gallery_id": "3"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["images"], body["gallery_images"], body["trimmed"]) == (6, 6, False)
    images_of: dict[str | None, set[str]] = {}
    for person in body["persons"]:
        person_images = {image["stash_image_id"] for image in person["images"]}
        assert person["appearances"] == len(person_images)
        images_of.setdefault(named(person), set()).update(person_images)
    assert images_of.pop(str(enrolled["Bill_Simon"].pk)) == bill_ids
    assert images_of.pop(str(enrolled["Carmen_Electra"].pk)) == carmen_ids
    assert set(images_of) <= {None}, "somebody else was named"
    assert outsider_ids <= images_of.get(None, set())


def test_a_gallerys_cast_and_every_page_of_its_images_are_read(
    api_client: APIClient, enrolled: dict[str, Performer], stash: FakeStash, settings: Any
) -> None:
    settings.STASHSENSE_MAX_GALLERY_IMAGES = 3  # pages of 3: the 4th image needs page 2
    photos = [*unseen_photos("Carmen_Electra", 2), *unseen_photos("Bill_Simon", 2)]
    ids = gallery_of(stash, "4", photos)
    stash.add_performer(FakePerformer("1", "Carmen", stash_ids=[(STASHDB, "stash-Carmen_Electra")]))
    stash.galleries["4"].performer_ids = ["1"]
    response = post(api_client, "identify/gallery", {"stash_gallery_id": "4", "max_images": 3})
    body = response.json()
    assert (body["images"], body["gallery_images"], body["trimmed"]) == (3, 4, True)
    seen = {image["stash_image_id"] for p in body["persons"] for image in p["images"]}
    assert seen <= set(ids[:3]) and ids[2] in seen


def test_unreadable_images_of_a_gallery_are_skipped_with_their_reason(
    api_client: APIClient, enrolled: dict[str, Performer], stash: FakeStash
) -> None:
    gallery_of(stash, "5", unseen_photos("Bill_Simon", 1))
    stash.add_image(FakeImage("501", None, gallery_ids=["5"], video=True))
    stash.add_image(FakeImage("502", STILLS_VTT, gallery_ids=["5"]))
    body = post(api_client, "identify/gallery", {"stash_gallery_id": "5"}).json()
    assert body["images"] == 1
    assert [s["stash_image_id"] for s in body["skipped"]] == ["501", "502"]
    assert "video clip" in body["skipped"][0]["reason"]


def test_a_gallery_of_ten_thousand_images_is_refused_naming_the_limit(
    api_client: APIClient, stash: FakeStash
) -> None:
    stash.add_gallery(FakeGallery("6"))
    for n in range(10_000):
        stash.images[str(600_000 + n)] = FakeImage(str(600_000 + n), None, gallery_ids=["6"])
    response = post(api_client, "identify/gallery", {"stash_gallery_id": "6"})
    status, code, message = error_of(response)
    assert (status, code) == (413, "gallery_too_large")
    assert "10000 images" in message and "STASHSENSE_MAX_GALLERY_IMAGES" in message
    assert stash.requests_to("/image/600000/image") == []


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("missing", 404, "gallery_not_found"),
        ("empty", 422, "gallery_empty"),
        ("unreadable", 422, "gallery_unreadable"),
    ],
)
def test_a_gallery_that_cannot_be_identified_says_why(
    api_client: APIClient, stash: FakeStash, setup: str, status: int, code: str
) -> None:
    if setup != "missing":
        stash.add_gallery(FakeGallery("7"))
    if setup == "unreadable":
        stash.add_image(FakeImage("701", None, gallery_ids=["7"]))
    response = post(api_client, "identify/gallery", {"stash_gallery_id": "7"})
    assert error_of(response)[:2] == (status, code)


@pytest.mark.parametrize(
    "body", [{}, {"stash_gallery_id": "x"}, {"stash_gallery_id": "1", "max_images": 0}]
)
def test_a_gallery_request_without_a_usable_id_is_a_400(
    api_client: APIClient, stash: FakeStash, body: dict[str, Any]
) -> None:
    assert post(api_client, "identify/gallery", body).status_code == 400
    assert stash.request_count("/graphql") == 0


def test_stash_failing_while_a_gallery_is_read_is_a_502(
    api_client: APIClient, stash: FakeStash
) -> None:
    gallery_of(stash, "8", unseen_photos("Bill_Simon", 1))
    stash.fail_next(3, status=500, path="/image/800/image")
    response = post(api_client, "identify/gallery", {"stash_gallery_id": "8"})
    assert error_of(response)[:2] == (502, "stash_unreachable")


@pytest.mark.parametrize(
    ("path", "body"),
    [("identify", {"stash_image_id": "1"}), ("identify/gallery", {"stash_gallery_id": "1"})],
)
def test_a_stash_id_without_a_configured_stash_names_the_setting(
    api_client: APIClient, settings: Any, path: str, body: dict[str, Any]
) -> None:
    settings.STASH_URL = ""
    status, _, message = error_of(post(api_client, path, body))
    assert status == 400 and "STASH_URL" in message


def test_a_stash_image_sent_as_a_form_field_is_fetched_too(
    api_client: APIClient, enrolled: dict[str, Performer], stash: FakeStash
) -> None:
    stash.add_image(FakeImage("10", unseen_photos("Carmen_Electra", 1)[0]))
    response = api_client.post("/api/v1/identify", {"stash_image_id": "10", "top_k": "1"})
    assert response.status_code == 200, response.json()
    [face] = response.json()["faces"]
    assert [m["performer"]["id"] for m in face["matches"]] == [str(enrolled["Carmen_Electra"].pk)]
