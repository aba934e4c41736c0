"""One shape for a performer from any source, so upserts need not know where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from performers.choices import BodyModificationKind, Gender, SourceKind
from performers.models import FUZZY_DATE, Source
from scraping.sources.stashbox import StashBoxPerformer
from scraping.sources.theporndb import TPDBPerformer, stashdb_ids

STASHDB_ENDPOINT = "https://stashdb.org/graphql"
THEPORNDB_ENDPOINT = "https://theporndb.net/graphql"

_GENDERS = {choice.value for choice in Gender}
_GENDER_WORDS = {
    "female": Gender.FEMALE,
    "male": Gender.MALE,
    "transgender female": Gender.TRANSGENDER_FEMALE,
    "trans female": Gender.TRANSGENDER_FEMALE,
    "transgender male": Gender.TRANSGENDER_MALE,
    "trans male": Gender.TRANSGENDER_MALE,
    "intersex": Gender.INTERSEX,
    "non binary": Gender.NON_BINARY,
    "non-binary": Gender.NON_BINARY,
}


def source_endpoint(source: Source) -> str:
    """The endpoint a source's own entries are keyed by (ThePornDB's is fixed)."""
    return THEPORNDB_ENDPOINT if source.kind == SourceKind.THEPORNDB else source.endpoint


@dataclass(frozen=True)
class StashKey:
    """(endpoint, stash_id): one upstream entry, as Stash keeps it."""

    endpoint: str
    stash_id: str


@dataclass(frozen=True)
class BodyMark:
    kind: str
    location: str
    description: str


@dataclass(frozen=True)
class UpstreamPerformer:
    """A performer as a source describes it, in our field names and value ranges.

    `key` is the entry itself; `linked` are explicit links to entries of other endpoints
    (ThePornDB's StashDB links): the same person, so the same identity. `fields` holds only
    what the source knows (values are never None or empty).
    """

    key: StashKey
    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    body_marks: tuple[BodyMark, ...] = ()
    photo_urls: tuple[str, ...] = ()
    linked: tuple[StashKey, ...] = ()
    merged_ids: tuple[str, ...] = ()
    updated: datetime | None = None


def from_stashbox(performer: StashBoxPerformer, endpoint: str) -> UpstreamPerformer:
    fields = _clean_fields(
        disambiguation=performer.disambiguation,
        gender=_gender(performer.gender),
        birth_date=_fuzzy_date(performer.birth_date),
        death_date=_fuzzy_date(performer.death_date),
        ethnicity=performer.ethnicity,
        country=performer.country,
        eye_color=performer.eye_color,
        hair_color=performer.hair_color,
        height_cm=_small_int(performer.height),
        breast_type=performer.breast_type,
        career_start_year=_small_int(performer.career_start_year),
        career_end_year=_small_int(performer.career_end_year),
    )
    marks = [
        BodyMark(BodyModificationKind.TATTOO, mark.location, mark.description or "")
        for mark in performer.tattoos
    ] + [
        BodyMark(BodyModificationKind.PIERCING, mark.location, mark.description or "")
        for mark in performer.piercings
    ]
    return UpstreamPerformer(
        key=StashKey(endpoint, performer.id),
        name=performer.name,
        fields=fields,
        aliases=performer.aliases,
        urls=tuple(url.url for url in performer.urls),
        body_marks=tuple(marks),
        photo_urls=tuple(image.url for image in performer.images),
        merged_ids=performer.merged_ids,
        updated=performer.updated,
    )


def from_theporndb(performer: TPDBPerformer) -> UpstreamPerformer:
    fields = _clean_fields(
        disambiguation=performer.disambiguation,
        gender=_gender(performer.gender),
        birth_date=_fuzzy_date(performer.birthday),
        ethnicity=performer.ethnicity,
        country=performer.nationality,
        eye_color=performer.eye_colour,
        hair_color=performer.hair_colour,
        height_cm=_small_int(_leading_number(performer.height)),
        career_start_year=_small_int(performer.career_start_year),
        career_end_year=_small_int(performer.career_end_year),
    )
    marks = [
        BodyMark(kind, text, "")
        for kind, text in (
            (BodyModificationKind.TATTOO, performer.tattoos),
            (BodyModificationKind.PIERCING, performer.piercings),
        )
        if text
    ]
    # The pre-cropped face first: it is the one picture that is surely of the performer.
    photos = [performer.face_url, performer.image_url, *performer.poster_urls]
    return UpstreamPerformer(
        key=StashKey(THEPORNDB_ENDPOINT, performer.id),
        name=performer.name,
        fields=fields,
        aliases=performer.aliases,
        urls=tuple(link.url for link in performer.links if link.url.startswith("http")),
        body_marks=tuple(marks),
        photo_urls=tuple(dict.fromkeys(url for url in photos if url)),
        linked=tuple(StashKey(STASHDB_ENDPOINT, stash_id) for stash_id in stashdb_ids(performer)),
    )


def _clean_fields(**values: Any) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            cleaned[name] = value
    return cleaned


def _gender(value: str | None) -> str | None:
    if not value:
        return None
    upper = value.strip().upper().replace(" ", "_").replace("-", "_")
    if upper in _GENDERS:
        return upper
    return _GENDER_WORDS.get(value.strip().lower())


def _fuzzy_date(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip()[:10]
    return text if FUZZY_DATE.match(text) else None


def _small_int(value: int | None) -> int | None:
    return value if value is not None and 0 < value < 32768 else None


def _leading_number(value: str | None) -> int | None:
    digits = ""
    for char in (value or "").strip():
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None
