"""The plugin source: `index.yml` and the plugin's zip, open to Stash's server (no secrets)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from stash.plugin_package import ZIP_NAME, plugin_index_yaml
from stash.plugin_source import PublishedPlugin, plugin_published, plugin_source_service_url
from stashsense.errors import ApplicationError
from stashsense.exceptions import status_of_error


def _published(request: HttpRequest) -> PublishedPlugin:
    root = request.build_absolute_uri(get_script_prefix())
    return plugin_published(service_url=plugin_source_service_url(root))


def _dated(response: HttpResponse, published: PublishedPlugin) -> HttpResponse:
    # Stash re-reads a cached index only when Last-Modified moved past its copy.
    response["Last-Modified"] = http_date(published.published_at.timestamp())
    response["Cache-Control"] = "no-cache"
    return response


def _refused(error: ApplicationError) -> HttpResponse:
    return HttpResponse(
        f"{error.message}\n", status=status_of_error(error), content_type="text/plain"
    )


@require_safe
def plugin_index(request: HttpRequest) -> HttpResponse:
    """The source's package list: add `<this service>/plugin/index.yml` as a source in Stash."""
    try:
        published = _published(request)
    except ApplicationError as error:
        return _refused(error)
    # Relative to the index, as Stash's own community source does: it still points at the
    # zip when a proxy serves this service under a path of its own.
    body = plugin_index_yaml(published.package, date=published.published_at, zip_path=ZIP_NAME)
    return _dated(HttpResponse(body, content_type="application/yaml; charset=utf-8"), published)


@require_safe
def plugin_zip(request: HttpRequest) -> HttpResponse:
    """The plugin's files for this service's address, as the zip the index names."""
    try:
        published = _published(request)
    except ApplicationError as error:
        return _refused(error)
    response = HttpResponse(published.package.zip_bytes, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="stash-sense.zip"'
    return _dated(response, published)
