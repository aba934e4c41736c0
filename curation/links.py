"""Where a stash ID can be seen on its source's own site."""

from __future__ import annotations

from urllib.parse import quote, urlsplit


def stash_id_page(endpoint: str, stash_id: str) -> str:
    """`https://stashdb.org/graphql` + id → `https://stashdb.org/performers/<id>`; "" when the
    endpoint is not an http(s) URL (it comes from scraped data and ends up in an href)."""
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = parts.netloc.lower()
    if host.endswith("theporndb.net"):
        # ThePornDB's API lives on api.theporndb.net; its pages on the bare domain.
        return f"https://theporndb.net/performers/{quote(stash_id, safe='')}"
    path = parts.path.rstrip("/").removesuffix("/graphql")
    return f"{parts.scheme}://{parts.netloc}{path}/performers/{quote(stash_id, safe='')}"


def endpoint_label(endpoint: str) -> str:
    """The host of an endpoint, the short name curators recognise (stashdb.org)."""
    return urlsplit(endpoint.strip()).netloc.lower().removeprefix("www.") or endpoint
