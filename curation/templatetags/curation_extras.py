from __future__ import annotations

from typing import Any

from django import template

from curation.links import endpoint_label, stash_id_page
from curation.selectors import performer_active_faces, performer_removed_face_count

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


@register.filter
def source_names(performer: Any) -> str:
    """Where a performer comes from, as curators say it: "StashDB, ThePornDB" (the sources of
    its stash IDs, or their hosts); "local" for one enrolled from a folder only."""
    if performer is None:
        return ""
    names = []
    for sid in performer.stash_ids.all():
        name = sid.source.name if sid.source is not None else endpoint_label(sid.endpoint)
        if name not in names:
            names.append(name)
    return ", ".join(names) or "local"


@register.filter
def faces_count(count: int | None) -> str:
    """ "1 face", "3 faces", "no faces"."""
    count = count or 0
    return "no faces" if count == 0 else f"{count} face" if count == 1 else f"{count} faces"


@register.filter
def face_source(face: Any) -> str:
    """Where a face came from in words: "From StashDB", "Enrolled", "Confirmed in Stash"."""
    image = face.image
    if image is not None and image.source is not None:
        return f"From {image.source.name}"
    return _ORIGIN_WORDS.get(face.origin, face.get_origin_display())


_ORIGIN_WORDS = {
    "enroll": "Enrolled from a folder",
    "sync": "Synced from a source",
    "feedback": "Confirmed by a Stash user",
    "bundle": "From a bundle",
}


@register.inclusion_tag("curation/_face_strip.html")
def performer_face_strip(performer: Any, limit: int = 16) -> dict[str, Any]:
    """A performer's best faces for the admin's change page (which shows no faces itself)."""
    active = list(performer_active_faces(performer=performer, limit=limit + 1))
    return {
        "performer": performer,
        "active": active[:limit],
        "more": len(active) > limit,
        "removed": performer_removed_face_count(performer=performer),
    }


@register.filter
def headline(summary: str) -> str:
    """What a duplicate item's summary says after its names ("A ↔ B: same name and faces")."""
    names, separator, rest = summary.partition(": ")
    if separator:
        return rest
    return "" if "↔" in names else names  # names only: the row already shows them


_METRIC_WORDS = {"l2": "straight-line (L2) distance", "cosine": "cosine distance"}
_FACT_LABELS = {
    "distance": "Face distance",
    "metric": "Measured as",
    "faces": "Faces compared",
    "compared_with": "Compared with",
    "profile": "Face model",
    "names": "Shared names",
}


@register.filter
def evidence_facts(details: Any) -> list[tuple[str, str]]:
    """An evidence entry's details in words: "Faces compared: 4 and 3", not "faces [4, 3]"."""
    if not isinstance(details, dict):
        return []
    return [
        (_FACT_LABELS.get(key, key.replace("_", " ").capitalize()), _fact(key, value))
        for key, value in details.items()
    ]


def _fact(key: str, value: Any) -> str:
    if key == "metric":
        return _METRIC_WORDS.get(str(value), str(value))
    if key == "faces" and isinstance(value, list) and len(value) == 2:
        return f"{value[0]} and {value[1]}"
    if key == "compared_with" and isinstance(value, int):
        return f"{value} other face" + ("" if value == 1 else "s")
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return ", ".join(_fact("", item) for item in value)
    return str(value)
