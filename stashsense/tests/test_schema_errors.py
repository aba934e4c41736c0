"""The OpenAPI schema documents the shared error body for the 4xx/503 answers of every operation."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def test_every_operation_documents_400_404_429_and_503_with_the_error_body(
    anonymous_client: APIClient, db: None
) -> None:
    schema = anonymous_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    error_ref = {"$ref": "#/components/schemas/Error"}

    operations = _operations(schema)
    assert len(operations) >= 8
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in ("400", "404", "429", "503"):
            assert status in responses, (path, method, status)
        if path != "/api/v1/health":
            assert responses["503"]["content"]["application/json"]["schema"] == error_ref
            assert "Retry-After" in responses["503"]["headers"]
        if method == "post":
            assert {"413", "415", "422"} <= set(responses), (path, method)
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]


def test_operations_that_need_a_key_document_401(anonymous_client: APIClient, db: None) -> None:
    schema = anonymous_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    identify = schema["paths"]["/api/v1/identify"]["post"]
    health = schema["paths"]["/api/v1/health"]["get"]

    assert "401" in identify["responses"]
    assert "401" not in health["responses"]
