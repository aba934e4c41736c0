from __future__ import annotations

from typing import Any

from django import template

from curation.links import endpoint_label, stash_id_page

register = template.Library()


@register.filter
def source_page(stash_id: Any) -> str:
    """The page of a StashId on its source's site."""
    return stash_id_page(stash_id.endpoint, stash_id.stash_id)


@register.filter
def endpoint_host(endpoint: str) -> str:
    return endpoint_label(endpoint)


@register.filter
def percent(value: float | None) -> str:
    return f"{100 * (value or 0.0):.0f}%"


@register.filter
def safe_href(url: str) -> str:
    """Scraped URLs go into hrefs only when they are http(s)."""
    return url if url.lower().startswith(("http://", "https://")) else ""
