from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from performers.models import Performer
from performers.services import StashIdInput, performer_create
from performers.tests.factories import STASHDB

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna() -> Performer:
    return performer_create(
        name="Anna Example",
        aliases=["Ánna Éx"],
        urls=["https://www.instagram.com/Anna.Ex/"],
        stash_ids=[StashIdInput(STASHDB, "5c0f6e5e-0000-4000-8000-000000000001")],
    )


@pytest.fixture
def other() -> Performer:
    return performer_create(name="Someone Else", urls=["https://twitter.com/someone"])


def _names(client: APIClient, query: str) -> list[str]:
    response = client.get("/api/v1/performers", {"q": query})
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_search_finds_a_performer_by_alias_ignoring_accents(
    api_client: APIClient, anna: Performer, other: Performer
) -> None:
    assert _names(api_client, "anna ex") == ["Anna Example"]


def test_search_finds_a_performer_by_stash_id(
    api_client: APIClient, anna: Performer, other: Performer
) -> None:
    assert _names(api_client, "5c0f6e5e-0000-4000-8000-000000000001") == ["Anna Example"]


def test_search_finds_a_performer_by_another_form_of_a_profile_url(
    api_client: APIClient, anna: Performer, other: Performer
) -> None:
    assert _names(api_client, "instagram.com/anna.ex") == ["Anna Example"]


def test_detail_lists_every_stash_id_of_the_identity(
    api_client: APIClient, anna: Performer
) -> None:
    from performers.services import stash_id_attach

    stash_id_attach(performer=anna, endpoint="https://fansdb.cc/graphql", stash_id="f-1")
    body = api_client.get(f"/api/v1/performers/{anna.pk}").json()
    assert {(s["endpoint"], s["stash_id"]) for s in body["stash_ids"]} == {
        (STASHDB, "5c0f6e5e-0000-4000-8000-000000000001"),
        ("https://fansdb.cc/graphql", "f-1"),
    }


def test_an_unknown_performer_is_a_404_in_the_error_format(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/performers/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_merge_over_the_api_moves_stash_ids(
    api_client: APIClient, anna: Performer, other: Performer
) -> None:
    response = api_client.post(
        f"/api/v1/performers/{anna.pk}/merge", {"sources": [str(other.pk)]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["performer"]["id"] == str(anna.pk)
    assert "Someone Else" in body["performer"]["aliases"]
    assert not Performer.objects.filter(pk=other.pk).exists()


def test_merge_into_itself_over_the_api_is_a_clear_400(
    api_client: APIClient, anna: Performer
) -> None:
    response = api_client.post(
        f"/api/v1/performers/{anna.pk}/merge", {"sources": [str(anna.pk)]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "merge_into_self",
        "message": "A performer cannot be merged into itself.",
    }


def test_merge_with_a_malformed_body_is_a_400_naming_the_field(
    api_client: APIClient, anna: Performer
) -> None:
    response = api_client.post(
        f"/api/v1/performers/{anna.pk}/merge", {"sources": ["not-a-uuid"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("sources")
