"""Who may call what: API keys, logins, CSRF on the dashboard's forms, CORS origins.

Routes are read from the URL configuration, so a view added later is checked without editing
this file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, override_settings
from django.urls import reverse

from curation.choices import ReviewStatus
from curation.tests.factories import DuplicateItemFactory
from stashsense.tests.fault.routes import (
    OPEN_API_ROUTES,
    concrete,
    guarded_api_routes,
    routes_under,
)

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
STASH = "http://stash.lan:9999"
ELSEWHERE = "https://evil.example"


def dashboard_pages() -> list[str]:
    """Every dashboard route but the JSON feed (which answers 403, not a login page)."""
    pages = [concrete(route) for route in routes_under("dashboard/")]
    assert reverse("curation:decide", args=[1]) in pages
    return [page for page in pages if page != reverse("curation:jobs_feed")]


@pytest.fixture
def visitor(django_user_model: Any) -> Client:
    """Logged in, but not staff."""
    client = Client()
    client.force_login(django_user_model.objects.create_user("visitor", password="pw"))
    return client


def test_every_api_route_but_health_and_the_schema_refuses_calls_without_a_valid_key(
    curator: Any,
) -> None:
    session = Client()
    session.force_login(curator)  # a dashboard login is no API credential either
    guarded = guarded_api_routes()
    for route in guarded:
        for method in METHODS:
            for client, headers in (
                (Client(), {}),
                (Client(), {"HTTP_X_API_KEY": "ss_not-a-key"}),
                (Client(), {"HTTP_AUTHORIZATION": "Bearer ss_not-a-key"}),
                (session, {}),
            ):
                response = getattr(client, method)(concrete(route), **headers)
                assert response.status_code == 401, (method, route, headers, response.content)
                assert response.json()["error"]["code"] in {
                    "not_authenticated",
                    "authentication_failed",
                }
    assert len(guarded) >= 7


def test_health_the_schema_and_the_docs_are_open() -> None:
    for route in OPEN_API_ROUTES:
        assert Client().get(concrete(route)).status_code == 200, route


def test_admin_pages_send_anonymous_and_non_staff_users_to_the_login_page(visitor: Client) -> None:
    pages = ["/admin/"] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    for client in (Client(), visitor):
        for page in pages:
            response = client.get(page)
            assert response.status_code == 302, page
            assert response["Location"].startswith(reverse("admin:login")), page


def test_dashboard_pages_and_forms_send_anonymous_and_non_staff_users_to_the_login_page(
    visitor: Client,
) -> None:
    for client in (Client(), visitor):
        for page in dashboard_pages():
            for method in ("get", "post"):
                response = getattr(client, method)(page)
                assert response.status_code == 302, (method, page)
                assert response["Location"].startswith(reverse("admin:login")), (method, page)
        feed = client.get(reverse("curation:jobs_feed"))
        assert feed.status_code == 403 and feed.json()["error"]["code"] == "not_authenticated"


def test_dashboard_decisions_need_the_csrf_token_of_the_page(curator: Any) -> None:
    item = DuplicateItemFactory.create()
    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)
    decide = reverse("curation:decide", args=[item.pk])

    forged = client.post(decide, {"decision": "reject"})
    assert forged.status_code == 403
    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN

    page = client.get(reverse("curation:item", args=[item.pk])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None, "the decision form carries no CSRF token"
    accepted = client.post(decide, {"decision": "reject", "csrfmiddlewaretoken": token.group(1)})
    assert accepted.status_code == 302
    item.refresh_from_db()
    assert item.status == ReviewStatus.REJECTED


def test_admin_posts_need_the_csrf_token(admin_user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(reverse("admin:stashsense_apikey_add"), {"name": "forged"})
    assert response.status_code == 403


@override_settings(CORS_ALLOWED_ORIGINS=[STASH])
def test_cors_answers_only_the_configured_origin_and_only_under_the_api() -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key, content-type",
    }
    allowed = Client().options("/api/v1/identify", headers={"Origin": STASH, **preflight})
    assert allowed["Access-Control-Allow-Origin"] == STASH
    assert "x-api-key" in allowed["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed

    refused = Client().options("/api/v1/identify", headers={"Origin": ELSEWHERE, **preflight})
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Origin" not in Client().get(
        "/api/v1/health", HTTP_ORIGIN=ELSEWHERE
    )
    assert Client().get("/api/v1/health", HTTP_ORIGIN=STASH)["Access-Control-Allow-Origin"] == STASH
    admin_login = Client().get(reverse("admin:login"), HTTP_ORIGIN=STASH)
    assert "Access-Control-Allow-Origin" not in admin_login


@override_settings(CORS_ALLOWED_ORIGINS=[])
def test_without_configured_origins_no_origin_is_allowed() -> None:
    response = Client().get("/api/v1/health", HTTP_ORIGIN=STASH)
    assert "Access-Control-Allow-Origin" not in response
