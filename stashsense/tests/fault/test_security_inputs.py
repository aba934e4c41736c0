"""Hostile inputs to the API: `image_url` pointed inwards, request floods, odd characters.

`image_url` is fetched only from the hosts of an allow-list (the configured Stash by default):
a host not on it is refused before any connection, whatever address it names, and so is a
redirect from a listed host to an unlisted one. A listed host may resolve to a private address
on purpose, because Stash usually runs on the LAN or on the same machine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from fakes import CannedResponse, FakeHttpServer
from performers.services import performer_create
from stashsense.models import ApiKey
from stashsense.services import api_key_create
from stashsense.tests.fault.routes import concrete, guarded_api_routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def inside() -> Iterator[FakeHttpServer]:
    """A server on 127.0.0.1 standing in for something that must not be reached from outside."""
    with FakeHttpServer() as server:
        server.add_route("GET", "/photo.jpg", CannedResponse(200, b"not really a jpeg"))
        yield server


def identify_url(client: APIClient, url: str) -> tuple[int, str]:
    response = client.post("/api/v1/identify", {"image_url": url}, format="json")
    return response.status_code, response.json()["error"]["code"]


@override_settings(IMAGE_URL_ALLOWED_HOSTS=["stash.lan"], STASH_URL="")
def test_image_urls_off_the_allow_list_are_refused_without_a_connection(
    api_client: APIClient, inside: FakeHttpServer
) -> None:
    port = inside.port
    for url in [
        f"http://127.0.0.1:{port}/photo.jpg",
        f"http://localhost:{port}/photo.jpg",
        f"http://[::1]:{port}/photo.jpg",
        f"http://2130706433:{port}/photo.jpg",
        f"http://0x7f.1:{port}/photo.jpg",
        f"http://stash.lan@127.0.0.1:{port}/photo.jpg",
        f"http://127.0.0.1:{port}/photo.jpg#@stash.lan",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/photo.jpg",
        "http://10.0.0.1/photo.jpg",
        "http://stash.lan.evil.example/photo.jpg",
    ]:
        assert identify_url(api_client, url) == (400, "url_not_allowed"), url
    for url in ["file:///etc/passwd", "gopher://stash.lan/x", "ftp://stash.lan/photo.jpg"]:
        assert identify_url(api_client, url) == (400, "invalid"), url
    assert inside.request_count() == 0


def test_a_redirect_from_a_listed_host_to_an_unlisted_one_is_not_followed(
    api_client: APIClient, inside: FakeHttpServer
) -> None:
    port = inside.port
    targets = [
        f"http://localhost:{port}/secret",
        f"http://127.0.0.1:{port + 1}/secret",  # the listed host, another port
        "http://169.254.169.254/latest/meta-data/",
    ]
    for target in targets:
        inside.add_route("GET", "/moved.jpg", CannedResponse(302, b"", {"Location": target}))
        with override_settings(IMAGE_URL_ALLOWED_HOSTS=[f"127.0.0.1:{port}"], STASH_URL=""):
            answer = identify_url(api_client, f"http://127.0.0.1:{port}/moved.jpg")
        assert answer == (400, "url_not_allowed"), target
    assert inside.request_count("/secret") == 0
    assert inside.request_count("/moved.jpg") == 3


@override_settings(IMAGE_URL_ALLOWED_HOSTS=["127.0.0.1"], STASH_URL="")
def test_a_listed_host_without_a_port_allows_only_the_default_ports(
    api_client: APIClient, inside: FakeHttpServer
) -> None:
    assert identify_url(api_client, f"http://127.0.0.1:{inside.port}/photo.jpg") == (
        400,
        "url_not_allowed",
    )
    assert inside.request_count() == 0


@override_settings(IMAGE_URL_ALLOWED_HOSTS=["127.0.0.1"], STASH_URL="")
def test_credentials_in_a_listed_url_are_refused(
    api_client: APIClient, inside: FakeHttpServer
) -> None:
    url = f"http://user:password@127.0.0.1:{inside.port}/photo.jpg"
    assert identify_url(api_client, url) == (400, "url_not_allowed")
    assert inside.request_count() == 0


def test_the_stash_host_is_allowed_by_default_and_only_it(
    api_client: APIClient, inside: FakeHttpServer
) -> None:
    with override_settings(IMAGE_URL_ALLOWED_HOSTS=[], STASH_URL=f"{inside.url}/"):
        _, code = identify_url(api_client, f"{inside.url}/photo.jpg")
        assert code != "url_not_allowed" and inside.request_count("/photo.jpg") == 1
        other = f"http://localhost:{inside.port}/photo.jpg"
        assert identify_url(api_client, other) == (400, "url_not_allowed")
    assert inside.request_count() == 1


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    """A cache of this test's own (Redis when the run has one), so no earlier count leaks in.

    Key ids repeat between tests (SQLite reuses them, Redis outlives the test database), and
    budgets are counted per key id.
    """
    cache: dict[str, Any] = (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
        if settings.REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
    cache["KEY_PREFIX" if settings.REDIS_URL else "LOCATION"] = f"fault-{uuid.uuid4()}"
    with override_settings(CACHES={"default": cache}):
        yield


def test_a_key_over_its_identify_budget_gets_429_with_retry_after_and_others_do_not(
    api_client: APIClient, fresh_cache: None
) -> None:
    ApiKey.objects.update(identify_per_minute=2)
    # Requests without an image count too: the budget is checked before the body is read.
    # One more try in case a minute boundary resets the window on the way.
    statuses = []
    for _ in range(4):
        response = api_client.post("/api/v1/identify", {}, format="json")
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {400} and len(statuses) >= 3, statuses
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    scene = api_client.post("/api/v1/identify/scene", {"frames": ["AAAA"]}, format="json")
    assert scene.status_code == 429 and scene["Retry-After"]

    _, other_key = api_key_create(name="other client")
    other = APIClient()
    other.credentials(HTTP_X_API_KEY=other_key)
    assert other.post("/api/v1/identify", {}, format="json").status_code == 400


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
def test_a_body_over_the_upload_limit_gets_413_on_every_route(api_client: APIClient) -> None:
    body = {"padding": "x" * 70 * 1024}
    for route in guarded_api_routes():
        for encoding in ("json", "multipart"):
            response = api_client.post(concrete(route), body, format=encoding)
            if response.status_code in {405, 415}:  # no POST here, or JSON only
                continue
            assert response.status_code == 413, (route, encoding, response.content[:300])
            assert response.json()["error"]["code"] == "too_large"


def test_a_nul_character_in_a_search_is_a_400_or_no_match_never_a_500(
    api_client: APIClient,
) -> None:
    for query in ["\x00", "name\x00", "https://stashdb.org/performers/\x00"]:
        response = api_client.get("/api/v1/performers", {"q": query})
        assert response.status_code in {200, 400}, (query, response.content)


def test_paging_past_64_bits_is_an_empty_page_not_a_500(api_client: APIClient) -> None:
    performer_create(name="Someone")
    for query in [
        "limit=99999999999999999999",
        "offset=99999999999999999999",
        "limit=9223372036854775807",
        "limit=5&offset=9223372036854775807",
    ]:
        response = api_client.get(f"/api/v1/performers?{query}")
        assert response.status_code == 200, (query, response.content[:300])
    assert len(api_client.get("/api/v1/performers?limit=99999").json()["results"]) == 1
