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
