"""Turning request bodies into bytes and parameters, with a clear 4xx for anything wrong."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from stashsense.errors import ApplicationError, TooLarge, Unprocessable
from stashsense.http import BlockedUrlError, OutboundClient, OutboundError


def request_fields(data: Any) -> Mapping[str, Any]:
    """The fields of a request body; a JSON body that is not an object (a list, a number) is a 400."""
    if not isinstance(data, Mapping):
        raise ApplicationError("The request body must be a JSON object or a form.", code="invalid")
    return data


def _max_bytes() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def uploaded_bytes(upload: Any, field: str) -> bytes:
    if not isinstance(upload, UploadedFile):
        raise ApplicationError(f"`{field}` must be a file upload.", code="invalid")
    if upload.size is not None and upload.size > _max_bytes():
        raise TooLarge(
            f"`{field}` is larger than the {_max_bytes() // (1024 * 1024)} MiB limit.",
            code="too_large",
        )
    return upload.read()


def base64_bytes(value: Any, field: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise ApplicationError(f"`{field}` must be a base64 string.", code="invalid")
    text = value.strip()
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if len(text) * 3 // 4 > _max_bytes():
        raise TooLarge(
            f"`{field}` is larger than the {_max_bytes() // (1024 * 1024)} MiB limit.",
            code="too_large",
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApplicationError(f"`{field}` is not valid base64.", code="invalid") from error


def image_url_allowed_hosts() -> set[str]:
    hosts = {h.lower() for h in settings.IMAGE_URL_ALLOWED_HOSTS}
    if settings.STASH_URL:
        stash_host = urlsplit(settings.STASH_URL).hostname
        if stash_host:
            hosts.add(stash_host.lower())
    return hosts


def fetch_image_url(url: Any) -> bytes:
    """Fetch an image from an allow-listed host only (the configured Stash by default)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ApplicationError("`image_url` must be an http(s) URL.", code="invalid")
    allowed = image_url_allowed_hosts()
    host = (urlsplit(url).hostname or "").lower()
    if host not in allowed:
        raise ApplicationError(
            f"`image_url` host {host!r} is not on the allow-list (STASH_URL, STASHSENSE_IMAGE_URL_HOSTS).",
            code="url_not_allowed",
        )
    client = OutboundClient(
        ssrf_guard=True, allowed_hosts=allowed, max_bytes=_max_bytes(), retries=1
    )
    try:
        return client.get(url).content
    except BlockedUrlError as error:
        raise ApplicationError(
            f"`image_url` is not allowed: {error}", code="url_not_allowed"
        ) from error
    except OutboundError as error:
        raise Unprocessable(f"Could not fetch `image_url`: {error}", code="fetch_failed") from error
    finally:
        client.close()


def image_from_request(data: Any, files: Any) -> bytes:
    """The image of an identify request: multipart `image`, `image_base64` or `image_url`."""
    if "image" in files:
        return uploaded_bytes(files["image"], "image")
    if data.get("image_base64"):
        return base64_bytes(data["image_base64"], "image_base64")
    if data.get("image_url"):
        return fetch_image_url(data["image_url"])
    raise ApplicationError(
        "Send an image: multipart `image`, `image_base64` or `image_url`.", code="no_image"
    )


def int_param(data: Any, name: str, default: int, low: int, high: int) -> int:
    raw = data.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError) as error:
        raise ApplicationError(f"`{name}` must be an integer.", code="invalid") from error
    if not low <= value <= high:
        raise ApplicationError(f"`{name}` must be between {low} and {high}.", code="invalid")
    return value


def float_param(data: Any, name: str, low: float, high: float) -> float | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError) as error:
        raise ApplicationError(f"`{name}` must be a number.", code="invalid") from error
    if not low <= value <= high:
        raise ApplicationError(f"`{name}` must be between {low} and {high}.", code="invalid")
    return value
