"""One place that turns every API error into `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from stashsense.errors import (
    ApplicationError,
    Conflict,
    InvalidInput,
    NotFound,
    RateLimited,
    TimedOut,
    TooLarge,
    TryLater,
    Unavailable,
    Unprocessable,
    UpstreamFailed,
)

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 10
DATABASE_DOWN_MESSAGE = "The database is unreachable; try again shortly."


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            message = _first_message(value)
            return message if field in ("non_field_errors", "detail") else f"{field}: {message}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


# Each kind of domain error and its status; a kind not listed answers as its nearest base.
STATUS_OF_ERROR: dict[type[ApplicationError], int] = {
    ApplicationError: status.HTTP_400_BAD_REQUEST,
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    TooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    Unprocessable: status.HTTP_422_UNPROCESSABLE_ENTITY,
    RateLimited: status.HTTP_429_TOO_MANY_REQUESTS,
    UpstreamFailed: status.HTTP_502_BAD_GATEWAY,
    TimedOut: status.HTTP_504_GATEWAY_TIMEOUT,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def status_of_error(error: ApplicationError) -> int:
    """The status of the first class in the error's MRO that has one (its own kind first)."""
    return next(STATUS_OF_ERROR[kind] for kind in type(error).__mro__ if kind in STATUS_OF_ERROR)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        response = Response(
            error_body(exc.code, exc.message, **exc.extra), status=status_of_error(exc)
        )
        if isinstance(exc, TryLater) and exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):  # a JSON or form body past the upload limit
        limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) // (1024 * 1024)
        return Response(
            error_body("too_large", f"The request body is larger than the {limit} MiB limit."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):  # e.g. too many fields, a malformed multipart body
        logger.warning("Suspicious request refused in %s: %s", context.get("view"), exc)
        return Response(
            error_body("invalid", "The request body is malformed."),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DataError):
        # A value from the request the database cannot hold (PostgreSQL refuses text with a
        # NUL character): the request is at fault, and a 500 would invite retries.
        logger.warning("Database refused a request value in %s: %s", context.get("view"), exc)
        return Response(
            error_body("invalid", "The request holds a value the database cannot store."),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DATABASE_DOWN):
        logger.warning("Database unavailable in %s: %s", context.get("view"), exc)
        response = Response(
            error_body("database_unavailable", DATABASE_DOWN_MESSAGE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    handled = exception_handler(exc, context)
    if handled is None:
        logger.exception("Unhandled error in %s", context.get("view"))
        return Response(
            error_body("server_error", "Internal error; see the server log."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response = handled
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        response.data = error_body(code, _first_message(exc.detail), fields=exc.detail)
    else:
        detail = getattr(exc, "detail", str(exc))
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else code
        response.data = error_body(
            codes if isinstance(codes, str) else code, _first_message(detail)
        )
    return response


# The database refused the connection or dropped it: not the request's fault, and it may pass.
DATABASE_DOWN = (OperationalError, InterfaceError)


def database_unavailable_response(request_path: str) -> HttpResponse:
    """503 + Retry-After for a request that needed the database while it is unreachable."""
    logger.warning("Database unavailable; answered 503 to %s", request_path)
    response: HttpResponse
    if request_path.startswith("/api/"):
        response = JsonResponse(
            error_body("database_unavailable", DATABASE_DOWN_MESSAGE), status=503
        )
    else:
        response = HttpResponse(
            DATABASE_DOWN_MESSAGE, status=503, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Pages (the admin, the dashboard) answer 503 + Retry-After when the database is down.

    The API's own handler does the same for API views; this catches what reaches Django.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_DOWN):
            return database_unavailable_response(request.path)
        return None


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"No such endpoint: {request.path}"), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", "Internal error; see the server log."), status=500
    )


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)
