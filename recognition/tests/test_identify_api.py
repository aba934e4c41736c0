from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from rest_framework.test import APIClient

from performers.models import Performer
from recognition.models import Face
from recognition.services import face_remove
from recognition.tests.gallery_fixtures import FACES, STASHDB, gallery_photos, probe_photo

pytestmark = [pytest.mark.django_db, pytest.mark.models]


def _identify(client: APIClient, path: str, **extra: object) -> dict:
    with open(FACES / path, "rb") as handle:
        response = client.post("/api/v1/identify", {"image": handle, **extra}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_new_photo_of_an_enrolled_person_names_them_with_high_confidence(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    body = _identify(api_client, probe_photo("obama"))
    assert len(body["faces"]) == 1
    best = body["faces"][0]["matches"][0]
    assert best["performer"]["id"] == str(enrolled["obama"].pk)
    assert best["confidence"] > 0.9
    assert best["performer"]["stash_ids"] == [{"endpoint": STASHDB, "stash_id": "stash-obama"}]
    assert set(body) >= {"faces", "profile", "index_version", "timings_ms"}


def test_a_group_photo_names_each_person_in_it(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    body = _identify(api_client, "_group/004.jpg")
    named = {face["matches"][0]["performer"]["name"] for face in body["faces"] if face["matches"]}
    assert {"obama", "biden"} <= named


def test_someone_not_in_the_gallery_comes_back_unknown(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    body = _identify(api_client, "John_Stockton/001.jpg")
    assert body["faces"] and all(face["matches"] == [] for face in body["faces"])


def test_an_image_sent_as_base64_json_works_like_an_upload(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    encoded = base64.b64encode((FACES / probe_photo("biden")).read_bytes()).decode()
    response = api_client.post(
        "/api/v1/identify", {"image_base64": encoded, "top_k": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["faces"][0]["matches"][0]["performer"]["name"] == "biden"


def test_a_removed_face_stops_matching_at_once(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    before = _identify(api_client, probe_photo("kit_harington"))["faces"][0]["matches"]
    assert before and before[0]["performer"]["name"] == "kit harington"
    for face in Face.objects.filter(performer=enrolled["kit_harington"]):
        face_remove(face=face)
    after = _identify(api_client, probe_photo("kit_harington"))["faces"][0]["matches"]
    assert all(m["performer"]["name"] != "kit harington" for m in after)


def test_a_face_added_after_the_build_is_found_without_rebuilding(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    from recognition.services import gallery_photo_add

    newcomer = Performer.objects.create(name="Michael Jackson")
    _identify(api_client, probe_photo("obama"))  # the server has loaded its index
    outcome = gallery_photo_add(
        performer=newcomer, data=(FACES / "Michael_Jackson/001.jpg").read_bytes()
    )
    assert outcome.faces
    body = _identify(api_client, "Michael_Jackson/003.jpg")
    assert body["faces"][0]["matches"][0]["performer"]["id"] == str(newcomer.pk)


def test_merged_identities_keep_matching_without_reindexing(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    from performers.services import performer_merge

    performer_merge(sources=[enrolled["rose_leslie"]], target=enrolled["Carmen_Electra"])
    best = _identify(api_client, probe_photo("rose_leslie"))["faces"][0]["matches"][0]
    assert best["performer"]["id"] == str(enrolled["Carmen_Electra"].pk)
    assert {"endpoint": STASHDB, "stash_id": "stash-rose_leslie"} in best["performer"]["stash_ids"]


def _post_bytes(client: APIClient, data: bytes) -> tuple[int, dict]:
    response = client.post("/api/v1/identify", {"image": io.BytesIO(data)}, format="multipart")
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"this is not an image", 400),
        ((FACES / "obama/001.jpg").read_bytes()[:2000], 400),
    ],
    ids=["not-an-image", "truncated-jpeg"],
)
def test_bad_images_get_a_clear_400(
    api_client: APIClient, enrolled: dict[str, Performer], payload: bytes, code: int
) -> None:
    status, body = _post_bytes(api_client, payload)
    assert status == code and body["error"]["message"]


def test_a_one_pixel_image_gets_a_clear_400(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    status, body = _post_bytes(api_client, buffer.getvalue())
    assert status == 400 and body["error"]["code"] == "too_small"


def test_a_decompression_bomb_is_refused_before_decoding(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")  # tiny file, 400 M pixels
    status, body = _post_bytes(api_client, buffer.getvalue())
    assert status == 400 and body["error"]["message"]


def test_an_upload_over_the_size_limit_gets_413(
    api_client: APIClient, enrolled: dict[str, Performer], settings: object
) -> None:
    setattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 1000)  # noqa: B010
    status, body = _post_bytes(api_client, (FACES / "obama/001.jpg").read_bytes())
    assert status == 413 and body["error"]["code"] == "too_large"


def test_an_image_url_off_the_allow_list_is_refused(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    response = api_client.post(
        "/api/v1/identify", {"image_url": "http://169.254.169.254/latest/meta-data"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_not_allowed"


def test_no_image_at_all_gets_a_400_that_says_what_to_send(
    api_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    response = api_client.post("/api/v1/identify", {"top_k": 2}, format="json")
    assert response.status_code == 400 and "image" in response.json()["error"]["message"]


def test_a_bad_top_k_gets_a_400(api_client: APIClient, enrolled: dict[str, Performer]) -> None:
    response = api_client.post(
        "/api/v1/identify", {"image_base64": "aGk=", "top_k": 500}, format="json"
    )
    assert response.status_code == 400 and "top_k" in response.json()["error"]["message"]


def test_without_an_index_the_answer_is_503_saying_to_build_it(api_client: APIClient) -> None:
    with open(FACES / "obama/001.jpg", "rb") as photo:
        response = api_client.post("/api/v1/identify", {"image": photo}, format="multipart")
    assert response.status_code == 503
    assert "build_index" in response.json()["error"]["message"]
    assert response["Retry-After"]


def test_identify_requires_an_api_key(anonymous_client: APIClient) -> None:
    assert anonymous_client.post("/api/v1/identify", {}, format="json").status_code == 401


def test_health_reports_the_index_once_built(
    anonymous_client: APIClient, enrolled: dict[str, Performer]
) -> None:
    body = anonymous_client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    expected_faces = sum(len(gallery_photos(identity)) for identity in enrolled)
    assert body["index"]["faces"] == expected_faces and body["index"]["performers"] == len(enrolled)
