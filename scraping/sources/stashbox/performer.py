"""Typed stash-box performers, parsed from GraphQL answers at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stashsense.http import PermanentError


class StashBoxDataError(PermanentError):
    """A stash-box answer did not have the shape the schema promises."""


@dataclass(frozen=True)
class StashBoxUrl:
    """A link on a performer; `site` is the site's name (from `site.name` or legacy `type`)."""

    url: str
    site: str | None


@dataclass(frozen=True)
class StashBoxImage:
    """An image as stash-box lists it; `url` is `<host>/images/<uuid>` (resizable by `?size=`)."""

    id: str
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class BodyModification:
    """A tattoo or piercing."""

    location: str
    description: str | None


@dataclass(frozen=True)
class StashBoxPerformer:
    """One performer on one endpoint. Dates are fuzzy strings ("1990", "1990-05", "1990-05-12").

    A merged performer is `deleted` with `merged_into_id` set (possibly to another merged one).
    Fields the server did not send (minimal field set) are None / empty.
    """

    id: str
    name: str
    disambiguation: str | None = None
    aliases: tuple[str, ...] = ()
    gender: str | None = None
    birth_date: str | None = None
    death_date: str | None = None
    ethnicity: str | None = None
    country: str | None = None
    eye_color: str | None = None
    hair_color: str | None = None
    height: int | None = None
    breast_type: str | None = None
    career_start_year: int | None = None
    career_end_year: int | None = None
    tattoos: tuple[BodyModification, ...] = ()
    piercings: tuple[BodyModification, ...] = ()
    urls: tuple[StashBoxUrl, ...] = ()
    images: tuple[StashBoxImage, ...] = ()
    deleted: bool = False
    merged_ids: tuple[str, ...] = ()
    merged_into_id: str | None = None
    created: datetime | None = None
    updated: datetime | None = None

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


@dataclass(frozen=True)
class PerformerPage:
    """One LIMIT/OFFSET page of `queryPerformers`; `count` is the total over all pages."""

    count: int
    performers: list[StashBoxPerformer]
    page: int
    per_page: int

    @property
    def has_more(self) -> bool:
        return self.page * self.per_page < self.count


def parse_performer(raw: Mapping[str, Any]) -> StashBoxPerformer:
    """A `Performer` object from either field set; `StashBoxDataError` on a wrong shape."""
    try:
        return StashBoxPerformer(
            id=str(raw["id"]),
            name=str(raw["name"]),
            disambiguation=_optional_str(raw.get("disambiguation")),
            aliases=tuple(str(alias) for alias in raw.get("aliases") or ()),
            gender=_optional_str(raw.get("gender")),
            birth_date=_optional_str(raw.get("birth_date")),
            death_date=_optional_str(raw.get("death_date")),
            ethnicity=_optional_str(raw.get("ethnicity")),
            country=_optional_str(raw.get("country")),
            eye_color=_optional_str(raw.get("eye_color")),
            hair_color=_optional_str(raw.get("hair_color")),
            height=_optional_int(raw.get("height")),
            breast_type=_optional_str(raw.get("breast_type")),
            career_start_year=_optional_int(raw.get("career_start_year")),
            career_end_year=_optional_int(raw.get("career_end_year")),
            tattoos=_body_modifications(raw.get("tattoos")),
            piercings=_body_modifications(raw.get("piercings")),
            urls=tuple(_url(item) for item in raw.get("urls") or ()),
            images=tuple(_image(item) for item in raw.get("images") or ()),
            deleted=bool(raw.get("deleted", False)),
            merged_ids=tuple(str(item) for item in raw.get("merged_ids") or ()),
            merged_into_id=_optional_str(raw.get("merged_into_id")),
            created=parse_time(raw.get("created")),
            updated=parse_time(raw.get("updated")),
        )
    except (KeyError, TypeError, ValueError) as error:
        performer_id = raw.get("id") if isinstance(raw, Mapping) else None
        raise StashBoxDataError(
            f"unexpected performer shape (id={performer_id!r}): {error!r}"
        ) from error


def parse_page(raw: Mapping[str, Any], *, page: int, per_page: int) -> PerformerPage:
    try:
        count = int(raw["count"])
        rows = list(raw["performers"])
    except (KeyError, TypeError, ValueError) as error:
        raise StashBoxDataError(f"unexpected queryPerformers shape: {error!r}") from error
    return PerformerPage(
        count=count,
        performers=[parse_performer(row) for row in rows],
        page=page,
        per_page=per_page,
    )


def parse_time(value: Any) -> datetime | None:
    """stash-box `Time` (RFC 3339, maybe with nanoseconds) as an aware datetime."""
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # Python keeps microseconds: cut nanoseconds off before the offset
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _url(raw: Mapping[str, Any]) -> StashBoxUrl:
    site = raw.get("site")
    site_name = site.get("name") if isinstance(site, Mapping) else raw.get("type")
    return StashBoxUrl(url=str(raw["url"]), site=_optional_str(site_name))


def _image(raw: Mapping[str, Any]) -> StashBoxImage:
    return StashBoxImage(
        id=str(raw["id"]),
        url=str(raw["url"]),
        width=int(raw.get("width") or 0),
        height=int(raw.get("height") or 0),
    )


def _body_modifications(raw: Any) -> tuple[BodyModification, ...]:
    return tuple(
        BodyModification(
            location=str(item["location"]), description=_optional_str(item.get("description"))
        )
        for item in raw or ()
    )


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)
