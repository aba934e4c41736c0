"""Request checks every view relies on: which hosts are served, one URL form for the API."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import is_valid_path

from stashsense.hosts import host_allowed

API_PREFIX = "/api/v1/"


class PrivateHostsMiddleware:
    """Applies STASHSENSE_ALLOWED_HOSTS (Django's patterns plus `private`) before any view.

    Django itself is told `*` when `private` is in the list (it has no notion of networks);
    this check then refuses every other host with the same 400 Django would answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = request.get_host()
        if not host_allowed(host, settings.STASHSENSE_ALLOWED_HOSTS):
            raise DisallowedHost(
                f"Invalid HTTP_HOST header: {host!r}. Add it to DJANGO_ALLOWED_HOSTS."
            )
        return self.get_response(request)


class ApiTrailingSlashMiddleware:
    """One rule for /api/v1/: no route ends with a slash, and the slashed form of any route
    answers 308 Permanent Redirect to it (method and body kept, unlike Django's APPEND_SLASH
    301, so a POST to `identify/` still identifies)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(API_PREFIX) and path.endswith("/") and path != API_PREFIX:
            urlconf = getattr(request, "urlconf", None)
            bare = path.rstrip("/")
            if is_valid_path(bare, urlconf) and not is_valid_path(path, urlconf):
                return _permanent_redirect(request, bare)
        return self.get_response(request)


def _permanent_redirect(request: HttpRequest, path_info: str) -> HttpResponse:
    script_name = request.path[: len(request.path) - len(request.path_info)]
    location = script_name + path_info
    query = request.META.get("QUERY_STRING", "")
    if query:
        location = f"{location}?{query}"
    return HttpResponsePermanentRedirect(location, preserve_request=True)
