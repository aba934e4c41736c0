"""API-key authentication: `Authorization: Api-Key <key>` or `X-Api-Key: <key>`."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from stashsense.models import ApiKey, api_key_hash
from stashsense.services import api_key_touch


@dataclass(frozen=True)
class ApiClient:
    """The authenticated caller of the API (DRF's `request.user`)."""

    name: str
    key_id: int | None
    identify_per_minute: int

    is_authenticated = True
    is_active = True
    is_anonymous = False


def key_from_request(request: Request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "api-key" and value.strip():
            return value.strip()
    value = request.META.get("HTTP_X_API_KEY", "").strip()
    return value or None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[ApiClient, str] | None:
        raw = key_from_request(request)
        if raw is None:
            return None
        bootstrap = settings.STASHSENSE_API_KEY
        if bootstrap and hmac.compare_digest(raw.encode(), bootstrap.encode()):
            return ApiClient(name="bootstrap", key_id=None, identify_per_minute=0), raw
        key = ApiKey.objects.filter(key_hash=api_key_hash(raw), revoked=False).first()
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_key_touch(key=key)
        return ApiClient(
            name=key.name, key_id=key.pk, identify_per_minute=key.identify_per_minute
        ), raw

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
