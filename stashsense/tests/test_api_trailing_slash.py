"""One URL rule under /api/v1/: no route ends with a slash; the slashed form redirects (308)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from stashsense.tests.fault.routes import routes_under

EXAMPLE_ARGUMENTS = {"uuid": str(uuid.uuid4()), "int": "7", "str": "scene-42", "slug": "a-slug"}
CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?\w+>")


def _example_path(route: str) -> str:
    return "/" + CONVERTER.sub(lambda m: EXAMPLE_ARGUMENTS[m["kind"] or "str"], route)


API_ROUTES = routes_under("api/v1/")


def test_every_api_route_is_found_and_none_ends_with_a_slash() -> None:
    assert "api/v1/health" in API_ROUTES and "api/v1/performers" in API_ROUTES
    slashed = [route for route in API_ROUTES if route.endswith("/")]
    assert not slashed, f"API routes end without '/': rename {slashed}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", API_ROUTES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_slashed_form_of_every_route_redirects_to_it_keeping_the_method(
    route: str, method: str
) -> None:
    path = _example_path(route)
    response = getattr(Client(), method)(f"{path}/?q=kept")
    assert response.status_code == 308, (path, response.status_code)
    assert response["Location"] == f"{path}?q=kept"


@pytest.mark.django_db
def test_a_slashed_path_that_is_no_route_either_way_is_a_json_404() -> None:
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_the_redirect_lands_on_the_route(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/performers/", follow=True)
    assert response.status_code == 200 and "results" in response.json()
