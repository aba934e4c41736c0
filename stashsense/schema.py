"""How the OpenAPI schema describes our authentication (drf-spectacular registers it on import)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """ApiKeyAuthentication as the `ApiKeyAuth` scheme (`Authorization: Api-Key` works too)."""

    target_class = "stashsense.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-Api-Key"}


# The statuses every operation may answer with the shared error body, and what they mean.
ERROR_STATUSES = {
    "400": "The request is malformed or a field is invalid.",
    "403": "The key may not do this.",
    "404": "No such object (or route).",
    "406": "The Accept header asks for a format the API does not produce.",
    "429": "This key's budget is used up; see Retry-After.",
    "503": "Busy, loading, or a dependency (database, cache, broker) is down; see Retry-After.",
}
WRITE_ERROR_STATUSES = {
    "409": "The object's state forbids this now.",
    "413": "The body or an image is over a size limit.",
    "415": "The body's content type is not accepted.",
    "422": "Well-formed, but nothing to work with (no face, no sprite, a fetch failed).",
    "502": "An upstream service (Stash) failed or could not be reached.",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
            "additionalProperties": True,
        }
    },
}
# Answered by the web server (gunicorn) before Django sees the request, as a small HTML page.
SERVER_STATUSES = {
    "414": "The request line (the URL with its query) is over the web server's limit.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation documents the `{"error": ...}`
    body for the 4xx/5xx statuses it can answer, so clients and schemathesis can check them."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = dict(ERROR_STATUSES)
            if operation.get("security") and {} not in operation["security"]:
                statuses["401"] = "No API key, or a wrong or revoked one."
            if method in ("post", "put", "patch"):
                statuses.update(WRITE_ERROR_STATUSES)
            for status, description in statuses.items():
                response = {
                    "description": description,
                    "content": {"application/json": {"schema": reference}},
                }
                if status in ("429", "503"):
                    response["headers"] = RETRY_AFTER
                operation["responses"].setdefault(status, response)
            for status, description in SERVER_STATUSES.items():
                operation["responses"].setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                )
    return result
