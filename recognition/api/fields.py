"""Serializer fields for what the identify endpoints take: images and sprites as uploads or
base64, frames, VTT text, the known cast, and the ranking parameters.

They read requests as the endpoints always have: a left-out field and a falsy one (null, "",
[]) are the same, a text value under a file's name is no upload, and every refusal names the
field in backticks. A size over the limit is a TooLarge, whatever the field.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from stashsense.errors import InvalidInput, TooLarge, Unavailable, Unprocessable
from stashsense.http import (
    BlockedUrlError,
    FetchesBusy,
    OutboundClient,
    OutboundError,
    bounded_fetches,
)

logger = logging.getLogger(__name__)

MAX_KNOWN_PERFORMERS = 200


def max_upload_bytes() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def _too_large(field: str) -> TooLarge:
    return TooLarge(
        f"`{field}` is larger than the {max_upload_bytes() // (1024 * 1024)} MiB limit.",
        code="too_large",
    )


def uploaded_bytes(upload: UploadedFile, field: str) -> bytes:
    if upload.size is not None and upload.size > max_upload_bytes():
        raise _too_large(field)
    return upload.read()


def base64_bytes(value: Any, field: str) -> bytes:
    """A base64 string (a `data:` URL too) decoded, with the upload size limit applied."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"`{field}` must be a base64 string.", code="invalid")
    text = value.strip()
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if len(text) * 3 // 4 > max_upload_bytes():
        raise _too_large(field)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(f"`{field}` is not valid base64.", code="invalid") from error


def host_port(host: str, port: int) -> str:
    """`host:port` as the allow-list writes it (IPv6 in brackets), lower case."""
    host = host.lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def image_url_allowed_hosts() -> set[str]:
    """Every `host:port` an `image_url` may point at: STASH_URL's and the configured ones.

    An entry without a port allows the scheme's default ports (80, 443) only, never every
    port of the host: a key holder must not reach other services that listen there.
    """
    allowed: set[str] = set()
    for entry in settings.IMAGE_URL_ALLOWED_HOSTS:
        parts = urlsplit(f"//{entry.strip()}")
        if not parts.hostname:
            continue
        ports = [parts.port] if parts.port else [80, 443]
        allowed.update(host_port(parts.hostname, port) for port in ports)
    if settings.STASH_URL:
        stash = urlsplit(settings.STASH_URL)
        if stash.hostname:
            default_port = 443 if stash.scheme == "https" else 80
            allowed.add(host_port(stash.hostname, stash.port or default_port))
    return allowed


def image_from_url(url: str) -> bytes:
    """Fetch an image from an allow-listed host:port only (the configured Stash by default).

    The fetch is bounded (see stashsense.http.bounded): a slow or hanging host costs this
    request at most the fetch deadline and, past the bound on fetches in flight, nothing.
    """
    allowed = image_url_allowed_hosts()
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise InvalidInput("`image_url` has an invalid port.", code="invalid") from error
    where = host_port(parts.hostname or "", port)
    if where not in allowed:
        shown = (parts.hostname or "") if parts.port is None else where
        raise InvalidInput(
            f"`image_url` host {shown!r} is not on the allow-list (STASH_URL, STASHSENSE_IMAGE_URL_HOSTS).",
            code="url_not_allowed",
        )
    client = OutboundClient(
        ssrf_guard=True,
        allowed_hosts=allowed,
        max_bytes=max_upload_bytes(),
        retries=0,
        # Per socket operation, so a fetch its caller gave up on frees its slot soon.
        timeout=(5, min(10, settings.STASHSENSE_FETCH_DEADLINE_SECONDS)),
        total_timeout=float(settings.STASHSENSE_FETCH_DEADLINE_SECONDS),
    )
    try:
        return bounded_fetches("image_url").run(lambda: client.get(url).content)
    except FetchesBusy as error:
        raise Unavailable(
            "Too many `image_url` fetches are in flight; try again shortly.",
            code="busy",
            retry_after=5,
        ) from error
    except BlockedUrlError as error:
        raise InvalidInput(
            f"`image_url` is not allowed: {error}", code="url_not_allowed"
        ) from error
    except OutboundError as error:
        # One message whatever went wrong (refused, reset, timed out): the difference would
        # tell a key holder which ports are open on the hosts it may name.
        logger.info("image_url fetch failed: %s", error)
        raise Unprocessable(
            "Could not fetch `image_url` (unreachable, too slow or an error answer).",
            code="fetch_failed",
        ) from error
    finally:
        client.close()


class OptionalInputField(serializers.Field):
    """A field that may be left out; a falsy value (null, "", []) counts as left out."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        return super().validate_empty_values(empty if data is not empty and not data else data)


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(OptionalInputField, serializers.FileField):
    """A multipart file, read into bytes; anything else under its name is no upload."""

    def to_internal_value(self, data: Any) -> bytes:
        if not isinstance(data, UploadedFile):
            raise SkipField
        return uploaded_bytes(data, str(self.field_name))


@extend_schema_field(OpenApiTypes.BYTE)
class Base64Field(OptionalInputField):
    """Base64 text (or a `data:` URL), decoded into bytes."""

    def to_internal_value(self, data: Any) -> bytes:
        return base64_bytes(data, str(self.field_name))


@extend_schema_field(OpenApiTypes.URI)
class ImageUrlField(OptionalInputField):
    """An http(s) URL of an image; fetched only from the allow-listed hosts."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not data.startswith(("http://", "https://")):
            raise InvalidInput(f"`{self.field_name}` must be an http(s) URL.", code="invalid")
        return data


@extend_schema_field(OpenApiTypes.STR)
class TextOrFileField(serializers.Field):
    """Text sent as a string or as a multipart file (a VTT), read as UTF-8."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, UploadedFile):
            return uploaded_bytes(data, str(self.field_name)).decode("utf-8", errors="replace")
        if not isinstance(data, str):
            raise InvalidInput(f"`{self.field_name}` must be text or a file.", code="invalid")
        return data


def video_too_large() -> TooLarge:
    limit = int(settings.STASHSENSE_MAX_VIDEO_BYTES)
    return TooLarge(
        f"`video` is larger than the {limit // (1024 * 1024)} MiB limit "
        "(STASHSENSE_MAX_VIDEO_BYTES).",
        code="too_large",
    )


@extend_schema_field(OpenApiTypes.BINARY)
class VideoUploadField(OptionalInputField, serializers.FileField):
    """A multipart video, kept as the uploaded file (on disk past the memory limit): it is
    seeked into, never read whole."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, UploadedFile):
            raise SkipField
        if data.size is not None and data.size > int(settings.STASHSENSE_MAX_VIDEO_BYTES):
            raise video_too_large()
        path = getattr(data, "temporary_file_path", None)
        return path() if callable(path) else data.file


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "string", "format": "byte"}},
            {"type": "integer", "minimum": 5, "maximum": 240},
        ],
        "description": "Frames as base64 images, or how many frames to read from the video "
        "(default 60, 5-240, evenly over 5-95 % of its duration).",
    }
)
class FramesField(OptionalInputField):
    """A list of base64 images (at most STASHSENSE_MAX_FRAMES), or a count of video frames."""

    def to_internal_value(self, data: Any) -> list[bytes] | int:
        if isinstance(data, int | str) and str(data).strip().isdigit():
            return self._count(data)
        if not isinstance(data, list):
            raise InvalidInput(
                f"`{self.field_name}` must be a list of base64 images or a number of frames.",
                code="invalid",
            )
        if len(data) > settings.STASHSENSE_MAX_FRAMES:
            raise InvalidInput(
                f"At most {settings.STASHSENSE_MAX_FRAMES} frames per request.",
                code="too_many_frames",
            )
        return [base64_bytes(frame, f"{self.field_name}[{i}]") for i, frame in enumerate(data)]

    def _count(self, data: int | str) -> int:
        text = str(data).strip()
        if not 5 <= int(text) <= 240:
            raise InvalidInput(
                f"`{self.field_name}` as a count must be a whole number from 5 to 240.",
                code="invalid",
            )
        return int(text)


@extend_schema_field(
    {
        "type": "array",
        "maxItems": MAX_KNOWN_PERFORMERS,
        "items": {
            "oneOf": [
                {"type": "string", "description": "Our performer id, or a stash ID."},
                {
                    "type": "object",
                    "properties": {"endpoint": {"type": "string"}, "stash_id": {"type": "string"}},
                },
            ]
        },
        "description": "The scene's cast, weighed as a prior: our ids, stash IDs or "
        "{endpoint, stash_id} pairs. A form sends them as JSON or comma-separated.",
    }
)
class KnownPerformersField(serializers.Field[list[Any], Any, list[Any], Any]):
    """The performers already known to be in a scene (a list, in a form as JSON or a,b,c)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, default=list, **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:  # null is no list: refused below, not taken for "left out"
            return (False, None)
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> list[Any]:
        name = self.field_name
        if isinstance(data, str):
            data = self._from_text(data)
        if not isinstance(data, list) or len(data) > MAX_KNOWN_PERFORMERS:
            raise InvalidInput(
                f"`{name}` must be a list ({MAX_KNOWN_PERFORMERS} at most).", code="invalid"
            )
        for item in data:  # PostgreSQL cannot compare text with a NUL character
            values = item.values() if isinstance(item, dict) else [item]
            if any(isinstance(value, str) and "\x00" in value for value in values):
                raise InvalidInput(f"`{name}` holds a NUL character.", code="invalid")
        return data

    def _from_text(self, text: str) -> Any:
        if not text.strip().startswith("["):
            return [item for item in text.split(",") if item.strip()]
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"`{self.field_name}` is not valid JSON.", code="invalid") from error


@extend_schema_field(OpenApiTypes.DOUBLE)
class RoundedFloatField(serializers.Field[float, float, float, Any]):
    """A float as the bodies show it: rounded to 4 decimals (output only)."""

    def to_representation(self, value: float) -> float:
        return round(float(value), 4)


def top_k_field() -> serializers.IntegerField:
    """How many candidates per face or person (1-20, default 3)."""
    invalid = "`top_k` must be an integer."
    out_of_range = "`top_k` must be between 1 and 20."
    return serializers.IntegerField(
        default=3,
        min_value=1,
        max_value=20,
        help_text="Candidates per face or person.",
        error_messages={
            "invalid": invalid,
            "null": invalid,
            "max_string_length": invalid,
            "min_value": out_of_range,
            "max_value": out_of_range,
        },
    )


class ThresholdField(serializers.FloatField):
    """The lowest confidence a candidate needs (0-1); left out or blank: the calibrated one."""

    def __init__(self) -> None:
        invalid = "`threshold` must be a number."
        out_of_range = "`threshold` must be between 0.0 and 1.0."
        super().__init__(
            required=False,
            allow_null=True,
            min_value=0.0,
            max_value=1.0,
            help_text="Lowest confidence shown; default: the index's calibrated threshold.",
            error_messages={
                "invalid": invalid,
                "max_string_length": invalid,
                "overflow": invalid,
                "min_value": out_of_range,
                "max_value": out_of_range,
            },
        )

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        return super().validate_empty_values(None if data == "" else data)
