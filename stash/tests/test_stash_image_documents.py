"""The image and gallery documents against a Stash that executes its schema: what the
gallery identification and the plugin's Add-to-image / Add-to-gallery rely on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fakes.stash_server import FakeGallery, FakeImage, FakePerformer, FakeStash
from recognition.tests.engine.support import FACES
from stash.documents import stash_document
from stash.tests.stash_scenes import STASH_API_KEY, needs_stash_fixtures
from stash.tests.test_stash_documents import DOCUMENT_NAMES, normalised, send

PHOTO = FACES / "Bill_Simon"


@pytest.fixture
def stash() -> Iterator[FakeStash]:
    needs_stash_fixtures()
    photo = sorted(PHOTO.iterdir())[0]
    images = [FakeImage(str(n), photo, gallery_ids=["1"], performer_ids=["1"]) for n in range(1, 8)]
    images += [FakeImage("8", photo, gallery_ids=["2"]), FakeImage("9", None, video=True)]
    fake = FakeStash(
        images=images,
        galleries=[
            FakeGallery("1", "Seven", performer_ids=["1"]),
            FakeGallery("2"),
            FakeGallery("3"),
        ],
        performers=[FakePerformer("1", "Carmen"), FakePerformer("2", "Venus")],
        api_key=STASH_API_KEY,
    )
    with fake:
        yield fake


def run(stash: FakeStash, name: str, variables: dict[str, Any]) -> Any:
    body = {"operationName": name, "query": stash_document(name), "variables": variables}
    response = send("POST", stash.graphql_url, json=body, headers={"ApiKey": STASH_API_KEY})
    assert response.status == 200, response.text
    assert "errors" not in response.json(), response.json()["errors"]
    return response.json()["data"]


def test_the_image_and_gallery_documents_are_files() -> None:
    assert set(DOCUMENT_NAMES) >= {
        "FindImageForIdentify",
        "FindGalleryForIdentify",
        "FindGalleryImagesPage",
        "BulkImageUpdateAddPerformers",
        "BulkGalleryUpdateAddPerformers",
    }


def test_no_document_replaces_an_images_or_a_gallerys_performers() -> None:
    for name in DOCUMENT_NAMES:
        text = normalised(stash_document(name))
        assert "imageUpdate(" not in text.replace("bulkImageUpdate(", ""), name
        assert "galleryUpdate(" not in text.replace("bulkGalleryUpdate(", ""), name


def test_find_image_reports_a_path_that_serves_the_photo_with_the_api_key(stash: FakeStash) -> None:
    image = run(stash, "FindImageForIdentify", {"id": "1"})["findImage"]
    assert image["visual_files"][0]["__typename"] == "ImageFile"
    assert image["performers"][0]["name"] == "Carmen"
    photo = send("GET", image["paths"]["image"], headers={"ApiKey": STASH_API_KEY})
    assert photo.content == stash.images["1"].file.read_bytes()  # type: ignore[union-attr]
    assert send("GET", image["paths"]["image"]).status == 401
    assert run(stash, "FindImageForIdentify", {"id": "99"})["findImage"] is None


def test_a_clip_is_a_video_file_and_has_no_photo(stash: FakeStash) -> None:
    image = run(stash, "FindImageForIdentify", {"id": "9"})["findImage"]
    assert image["visual_files"][0]["__typename"] == "VideoFile"
    assert send("GET", image["paths"]["image"], headers={"ApiKey": STASH_API_KEY}).status == 404


def test_gallery_pages_list_its_images_once_in_id_order(stash: FakeStash) -> None:
    gallery = run(stash, "FindGalleryForIdentify", {"id": "1"})["findGallery"]
    assert gallery["image_count"] == 7 and gallery["performers"][0]["id"] == "1"
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        found = run(
            stash, "FindGalleryImagesPage", {"gallery_id": "1", "page": page, "per_page": 3}
        )
        assert found["findImages"]["count"] == 7
        seen += [image["id"] for image in found["findImages"]["images"]]
    assert seen == [str(n) for n in range(1, 8)]
    empty = run(stash, "FindGalleryImagesPage", {"gallery_id": "3", "page": 1, "per_page": 3})
    assert empty["findImages"] == {"count": 0, "images": []}
    assert run(stash, "FindGalleryForIdentify", {"id": "99"})["findGallery"] is None


def test_adding_performers_to_images_keeps_theirs(stash: FakeStash) -> None:
    variables = {"image_ids": ["1", "8"], "performer_ids": ["2"]}
    data = run(stash, "BulkImageUpdateAddPerformers", variables)["bulkImageUpdate"]
    assert data == [
        {"id": "1", "performers": [{"id": "1"}, {"id": "2"}]},
        {"id": "8", "performers": [{"id": "2"}]},
    ]
    [sent] = stash.mutations_of("bulkImageUpdate")
    assert sent.arguments["input"]["performer_ids"] == {"ids": ["2"], "mode": "ADD"}


def test_adding_performers_to_a_gallery_keeps_its_own(stash: FakeStash) -> None:
    variables = {"gallery_ids": ["1"], "performer_ids": ["2", "1"]}
    data = run(stash, "BulkGalleryUpdateAddPerformers", variables)["bulkGalleryUpdate"]
    assert data == [{"id": "1", "performers": [{"id": "1"}, {"id": "2"}]}]
    assert stash.mutations_of("galleryUpdate") == []
