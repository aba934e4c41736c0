"""Domain errors get their status in one place, the API's exception handler."""

from __future__ import annotations

import pytest

from recognition.searchable_gallery import NoIndexYet
from stash.client import StashFailed, StashNotConfigured, StashSceneMissing, StashSceneUnusable
from stashsense.errors import (
    ApplicationError,
    Conflict,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unavailable,
    Unprocessable,
    UpstreamFailed,
)
from stashsense.exceptions import api_exception_handler


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ApplicationError("refused"), 400),
        (InvalidInput("bad field"), 400),
        (NotFound("gone", code="not_found"), 404),
        (Conflict("claimed", code="claimed"), 409),
        (TooLarge("big", code="too_large"), 413),
        (Unprocessable("no sprite", code="no_sprite"), 422),
        (RateLimited("slow down", code="rate_limited"), 429),
        (UpstreamFailed("stash down", code="stash_unreachable"), 502),
        (Unavailable("busy", code="busy"), 503),
    ],
)
def test_each_kind_of_domain_error_answers_its_status_with_its_code_and_message(
    error: ApplicationError, status: int
) -> None:
    response = api_exception_handler(error, {})
    assert response is not None and response.status_code == status
    assert response.data == {"error": {"code": error.code, "message": error.message}}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (StashNotConfigured("no url", code="stash_not_configured"), 400),
        (StashSceneMissing("no scene", code="scene_not_found"), 404),
        (StashSceneUnusable("no sprite", code="no_sprite"), 422),
        (StashFailed("down", code="stash_unreachable"), 502),
        (NoIndexYet("scrfd-dlib"), 503),
    ],
)
def test_an_error_of_a_family_answers_as_its_kind(error: ApplicationError, status: int) -> None:
    response = api_exception_handler(error, {})
    assert response is not None and response.status_code == status


def test_errors_that_say_when_to_retry_send_retry_after_and_others_do_not() -> None:
    later = api_exception_handler(RateLimited("slow down", retry_after=17), {})
    no_index = api_exception_handler(NoIndexYet("scrfd-dlib"), {})
    models_missing = api_exception_handler(Unavailable("no models", code="models_missing"), {})
    assert later is not None and later["Retry-After"] == "17"
    assert no_index is not None and no_index["Retry-After"] == "60"
    assert models_missing is not None and not models_missing.has_header("Retry-After")


def test_extra_fields_of_an_error_join_its_body() -> None:
    response = api_exception_handler(Conflict("taken", code="taken", extra={"by": "alice"}), {})
    assert response is not None
    assert response.data == {"error": {"code": "taken", "message": "taken", "by": "alice"}}
