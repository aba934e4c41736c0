from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from recognition.configured_profile import profile_for
from stashsense.models import ApiKey

pytestmark = pytest.mark.django_db


def test_the_api_refuses_a_request_without_a_key(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/api/v1/performers")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Api-Key"


def test_the_api_accepts_a_key_in_the_authorization_header(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/performers").status_code == 200


def test_the_api_accepts_a_key_in_the_x_api_key_header(api_key: str) -> None:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    assert client.get("/api/v1/performers").status_code == 200


def test_a_wrong_or_revoked_key_is_refused(api_key: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key ss_wrong")
    assert client.get("/api/v1/performers").status_code == 401
    ApiKey.objects.update(revoked=True)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    assert client.get("/api/v1/performers").status_code == 401


def test_keys_are_stored_hashed(api_key: str) -> None:
    stored = ApiKey.objects.get()
    assert api_key not in stored.key_hash and stored.key_hash != api_key


@override_settings(STASHSENSE_API_KEY="bootstrap-key-from-env")
def test_the_bootstrap_key_from_the_environment_is_accepted() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key bootstrap-key-from-env")
    assert client.get("/api/v1/performers").status_code == 200


def test_health_is_open_and_says_degraded_without_an_index(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in {"ok", "degraded"}
    assert "CPUExecutionProvider" in body["available_providers"]
    assert body["version"]


@pytest.mark.models
def test_health_reports_the_provider_each_session_runs_on_not_the_build_list(
    anonymous_client: APIClient,
) -> None:
    body = anonymous_client.get("/api/v1/health").json()
    loaded = profile_for()
    detector = loaded.providers()[0]
    assert body["sessions"] == loaded.session_providers()
    assert body["sessions"]["detector"] == detector and "recogniser" in body["sessions"]
    assert body["providers"] == sorted(set(body["sessions"].values()))
    # onnxruntime's CPU build also lists AzureExecutionProvider, which no session runs on
    assert set(body["available_providers"]) >= set(body["providers"])
    if "AzureExecutionProvider" in body["available_providers"]:
        assert "AzureExecutionProvider" not in body["providers"]


@override_settings(MODELS_DIR=Path("/nonexistent/models"))
def test_health_without_models_is_degraded_with_no_sessions(anonymous_client: APIClient) -> None:
    body = anonymous_client.get("/api/v1/health").json()
    assert body["status"] == "degraded"
    assert body["sessions"] == {} and body["providers"] == []


def test_unknown_api_paths_answer_json(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_openapi_schema_builds(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert b"/api/v1/performers" in response.content


def test_the_api_docs_page_is_served(anonymous_client: APIClient) -> None:
    assert anonymous_client.get("/api/docs/").status_code == 200
