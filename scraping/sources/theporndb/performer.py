"""Typed ThePornDB performers and the StashDB cross-links some of them carry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stashsense.http import PermanentError

STASHDB_PERFORMER_URL = re.compile(
    r"stashdb\.org/performers/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    re.IGNORECASE,
)
BARE_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class ThePornDBDataError(PermanentError):
    """A ThePornDB answer did not have the expected shape."""


@dataclass(frozen=True)
class TPDBLink:
    """One entry of `extras.links`; `platform` is the site name when the API gives one."""

    platform: str | None
    url: str


@dataclass(frozen=True)
class TPDBPerformer:
    """A ThePornDB performer. `partial` is True for list/search rows: fetch by id for the rest.

    `face_url` is ThePornDB's pre-cropped face; `image_url` and `poster_urls` are full photos.
    Physical attributes are kept as the API's strings ("165cm", "Female").
    """

    id: str
    name: str
    slug: str | None = None
    disambiguation: str | None = None
    bio: str | None = None
    aliases: tuple[str, ...] = ()
    face_url: str | None = None
    image_url: str | None = None
    thumbnail_url: str | None = None
    poster_urls: tuple[str, ...] = ()
    gender: str | None = None
    birthday: str | None = None
    birthplace: str | None = None
    ethnicity: str | None = None
    nationality: str | None = None
    hair_colour: str | None = None
    eye_colour: str | None = None
    height: str | None = None
    weight: str | None = None
    measurements: str | None = None
    cup_size: str | None = None
    tattoos: str | None = None
    piercings: str | None = None
    career_start_year: int | None = None
    career_end_year: int | None = None
    links: tuple[TPDBLink, ...] = ()
    partial: bool = False


@dataclass(frozen=True)
class Page:
    """One page of `GET /performers` with its `meta`."""

    data: list[TPDBPerformer]
    current_page: int
    last_page: int
    total: int
    per_page: int

    @property
    def has_more(self) -> bool:
        return self.current_page < self.last_page


def stashdb_ids(performer: TPDBPerformer) -> list[str]:
    """Explicit StashDB performer ids among the performer's links, lower-case, in order."""
    found: list[str] = []
    for link in performer.links:
        match = STASHDB_PERFORMER_URL.search(link.url)
        if match:
            candidate = match.group(1)
        elif "stashdb" in (link.platform or "").lower() and BARE_UUID.match(link.url.strip()):
            candidate = link.url.strip()
        else:
            continue
        if candidate.lower() not in found:
            found.append(candidate.lower())
    return found


def parse_performer(raw: Mapping[str, Any], *, partial: bool = False) -> TPDBPerformer:
    """One performer object from `data`; `ThePornDBDataError` on a wrong shape."""
    try:
        extras = raw.get("extras") or {}
        return TPDBPerformer(
            id=str(raw["id"]),
            name=str(raw["name"]),
            slug=_text(raw.get("slug")),
            disambiguation=_text(raw.get("disambiguation")),
            bio=_text(raw.get("bio")),
            aliases=tuple(str(alias) for alias in raw.get("aliases") or () if alias),
            face_url=_text(raw.get("face")),
            image_url=_text(raw.get("image")),
            thumbnail_url=_text(raw.get("thumbnail")),
            poster_urls=_poster_urls(raw.get("posters")),
            gender=_text(extras.get("gender")),
            birthday=_text(extras.get("birthday")),
            birthplace=_text(extras.get("birthplace")),
            ethnicity=_text(extras.get("ethnicity")),
            nationality=_text(extras.get("nationality")),
            hair_colour=_text(extras.get("hair_colour")),
            eye_colour=_text(extras.get("eye_colour")),
            height=_text(extras.get("height")),
            weight=_text(extras.get("weight")),
            measurements=_text(extras.get("measurements")),
            cup_size=_text(extras.get("cupsize")),
            tattoos=_text(extras.get("tattoos")),
            piercings=_text(extras.get("piercings")),
            career_start_year=_year(extras.get("career_start_year")),
            career_end_year=_year(extras.get("career_end_year")),
            links=parse_links(extras.get("links")),
            partial=partial,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ThePornDBDataError(f"unexpected performer shape: {error!r}") from error


def parse_page(raw: Mapping[str, Any]) -> Page:
    try:
        meta = raw.get("meta") or {}
        rows = [parse_performer(row, partial=True) for row in raw["data"]]
        return Page(
            data=rows,
            current_page=int(meta.get("current_page", 1)),
            last_page=int(meta.get("last_page", 1)),
            total=int(meta.get("total", len(rows))),
            per_page=int(meta.get("per_page", len(rows))),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ThePornDBDataError(f"unexpected page shape: {error!r}") from error


def parse_links(raw: Any) -> tuple[TPDBLink, ...]:
    """`extras.links` in either shape: a list of `{url, platform}` or a `{platform: url}` map."""
    links: list[TPDBLink] = []
    if isinstance(raw, Mapping):
        for platform, value in raw.items():
            links.extend(_links_of(str(platform), value))
    elif isinstance(raw, list):
        for item in raw:
            links.extend(_links_of(None, item))
    return tuple(links)


def _links_of(platform: str | None, value: Any) -> list[TPDBLink]:
    if isinstance(value, str):
        return [TPDBLink(platform, value.strip())] if value.strip() else []
    if isinstance(value, list):
        return [link for item in value for link in _links_of(platform, item)]
    if isinstance(value, Mapping):
        url = value.get("url") or value.get("link")
        named = value.get("platform") or value.get("site") or value.get("name") or platform
        return _links_of(_text(named), url) if url else []
    return []


def _poster_urls(raw: Any) -> tuple[str, ...]:
    urls: list[str] = []
    for item in raw or ():
        url = item.get("url") if isinstance(item, Mapping) else item
        if isinstance(url, str) and url:
            urls.append(url)
    return tuple(urls)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _year(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(str(value)[:4])
