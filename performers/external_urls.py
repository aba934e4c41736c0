"""External profile URLs reduced to (site, id), the key identity resolution compares.

`https://www.instagram.com/Some.Name/?hl=en` and `instagram.com/some.name` are the same
profile; `ExternalProfile("instagram", "some.name")` says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class ExternalProfile:
    site: str
    site_id: str


# host (without www./m./mobile.) → (site, path pattern whose first group is the id, case-insensitive id)
_SITES: dict[str, tuple[str, re.Pattern[str], bool]] = {
    "twitter.com": ("twitter", re.compile(r"^/(?:#!/)?@?([A-Za-z0-9_]{1,15})/?$"), True),
    "x.com": ("twitter", re.compile(r"^/@?([A-Za-z0-9_]{1,15})/?$"), True),
    "instagram.com": ("instagram", re.compile(r"^/([A-Za-z0-9_.]{1,30})/?$"), True),
    "onlyfans.com": ("onlyfans", re.compile(r"^/([A-Za-z0-9_.-]+)/?$"), True),
    "iafd.com": ("iafd", re.compile(r"^/person\.rme/(?:perfid=|id=)?([^/]+)(?:/.*)?$"), True),
    "freeones.com": ("freeones", re.compile(r"^/(?:[a-z]{2}/)?([A-Za-z0-9_-]+)(?:/.*)?$"), True),
    "freeones.xxx": ("freeones", re.compile(r"^/(?:[a-z]{2}/)?([A-Za-z0-9_-]+)(?:/.*)?$"), True),
    "babepedia.com": ("babepedia", re.compile(r"^/babe/([^/]+)/?$"), True),
    "indexxx.com": ("indexxx", re.compile(r"^/m/([^/]+)/?$"), True),
    "imdb.com": ("imdb", re.compile(r"^/name/(nm\d+)/?.*$"), True),
    "data18.com": ("data18", re.compile(r"^/(?:name|pornstars)/([^/]+)/?$"), True),
    "boobpedia.com": ("boobpedia", re.compile(r"^/boobs/([^/]+)/?$"), True),
    "thenude.com": ("thenude", re.compile(r"^/([^/]+_\d+)\.htm/?$"), True),
    "theporndb.net": ("theporndb", re.compile(r"^/performers/([^/]+)/?$"), True),
}
# Pages that are not profiles on sites whose profile pattern is a bare first segment.
_RESERVED = {
    "home",
    "explore",
    "search",
    "intent",
    "share",
    "i",
    "hashtag",
    "p",
    "reel",
    "stories",
    "login",
}
_STASHBOX_PATH = re.compile(r"^/performers/([0-9a-fA-F-]{36})/?$")


def _host(netloc: str) -> str:
    host = netloc.lower().rsplit("@", 1)[-1].split(":", 1)[0]
    for prefix in ("www.", "m.", "mobile.", "en."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    return host


def canonical_url(url: str) -> str:
    """Scheme-less, lower-case host, no query/fragment/trailing slash: for equality checks."""
    parts = urlsplit(url.strip() if "://" in url else "https://" + url.strip())
    return (_host(parts.netloc) + parts.path.rstrip("/")).lower()


def parse_external_url(
    url: str, *, stashbox_hosts: frozenset[str] = frozenset()
) -> ExternalProfile | None:
    """The (site, id) of a profile URL, or None for a URL we cannot key.

    `stashbox_hosts` are hosts of stash-box endpoints (stashdb.org, fansdb.cc, …): their
    `/performers/<uuid>` pages are keyed as `stashbox:<host>`.
    """
    raw = url.strip()
    if not raw:
        return None
    parts = urlsplit(raw if "://" in raw else "https://" + raw)
    host = _host(parts.netloc)
    path = unquote(parts.path)
    if host == "twitter.com" and parts.fragment.startswith("!/"):
        path = "/" + parts.fragment[2:]
    stashbox_match = _STASHBOX_PATH.match(path)
    if stashbox_match and (host in stashbox_hosts or host in KNOWN_STASHBOX_HOSTS):
        return ExternalProfile(f"stashbox:{host}", stashbox_match.group(1).lower())
    site = _SITES.get(host)
    if site is None:
        return None
    name, pattern, case_insensitive = site
    match = pattern.match(path)
    if match is None:
        return None
    site_id = match.group(1)
    if site_id.lower() in _RESERVED:
        return None
    return ExternalProfile(name, site_id.lower() if case_insensitive else site_id)


KNOWN_STASHBOX_HOSTS = frozenset(
    {"stashdb.org", "fansdb.cc", "fansdb.xyz", "pmvstash.org", "javstash.org"}
)
