"""A gallery identified as the service does it, from local photos, timed and scored.

`manage.py bench_gallery --folder F` reads F's photos (one folder per identity, as `enroll`
takes them) as one gallery and identifies it twice against the active index:

- the gallery rule (`stash.images.gallery_identify`): faces grouped into persons across images,
  a person named only when their faces' votes reach the index's threshold, as in a scene;
- the single-image rule (what the system we replace did): every face of every image named on
  its own by `identify_image`.

It prints the time per stage and image, peak RSS, and for each rule how many names it gave and
how many were right (a name is right when it is the identity of the photo, or for a person the
identity most of their images show, matched to performer names as `enroll` writes them).
Wall-clock numbers, printed and never asserted.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from performers.models import Performer
from recognition.identification import decode_sent_image, identify_image
from recognition.scenes import SceneFrame
from stash.client import StashGallery
from stash.images import (
    GalleryIdentification,
    StashGalleryMedia,
    bounded_image,
    gallery_identify,
)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def labelled_photos(folder: Path) -> list[tuple[Path, str]]:
    """(photo, identity) for every photo in a folder per identity; `_`-folders are unlabelled."""
    return [
        (photo, identity.name)
        for identity in sorted(p for p in folder.iterdir() if p.is_dir())
        if not identity.name.startswith("_")
        for photo in sorted(identity.iterdir())
        if photo.suffix.lower() in PHOTO_SUFFIXES
    ]


def _identity_key(name: str) -> str:
    return name.replace("_", " ").strip().lower()


def local_gallery_media(photos: Sequence[Path]) -> StashGalleryMedia:
    """Local photos as the media of a gallery, decoded and shrunk as Stash's images are."""
    frames = [
        SceneFrame(index=i, image=bounded_image(decode_sent_image(p.read_bytes(), str(p))))
        for i, p in enumerate(photos)
    ]
    gallery = StashGallery("local", "local", len(photos), (), ())
    return StashGalleryMedia(gallery, len(photos), frames, [str(i) for i in range(len(photos))], [])


def _performer_identities() -> dict[str, str]:
    return {
        str(pk): _identity_key(name) for pk, name in Performer.objects.values_list("pk", "name")
    }


def _score(names: dict[int, set[str]], labels: Sequence[str]) -> dict[str, Any]:
    """Names given to images (image position -> performer identities), scored by the labels."""
    identities = _performer_identities()
    given = [(i, identities.get(pk, pk)) for i, pks in names.items() for pk in pks]
    right = sum(1 for i, name in given if name == _identity_key(labels[i]))
    enrolled = {key for key in identities.values()}
    findable = [i for i, label in enumerate(labels) if _identity_key(label) in enrolled]
    found = {i for i, name in given if name == _identity_key(labels[i])}
    return {
        "names_given": len(given),
        "right": right,
        "wrong": len(given) - right,
        "precision": round(right / len(given), 3) if given else None,
        "recall": round(len(found) / len(findable), 3) if findable else None,
    }


def _gallery_names(result: GalleryIdentification) -> dict[int, set[str]]:
    """A named person's name counts for every image the person is in."""
    names: dict[int, set[str]] = {}
    for person in result.persons:
        if person.matches:
            for image in person.images:
                names.setdefault(int(image.stash_image_id), set()).add(
                    str(person.matches[0].performer.pk)
                )
    return names


def _single_image_names(photos: Sequence[Path]) -> dict[int, set[str]]:
    """Every face of every image named on its own (its best candidate above the threshold)."""
    return {
        i: {str(face.matches[0].performer.pk) for face in faces if face.matches}
        for i, photo in enumerate(photos)
        if (faces := identify_image(data=photo.read_bytes()).faces)
    }


def gallery_benchmark(folder: Path, *, max_images: int | None = None) -> dict[str, Any]:
    """Both rules on the folder's photos; timings per stage, peak RSS, names right and wrong."""
    pairs = labelled_photos(folder)[:max_images]
    photos, labels = [p for p, _ in pairs], [label for _, label in pairs]
    identify_image(data=photos[0].read_bytes())  # loads the models and the index
    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    media = local_gallery_media(photos)
    decoded = time.perf_counter()
    result = gallery_identify(media=media)
    finished = time.perf_counter()
    rss_gallery = _peak_rss_mb()
    single_names = _single_image_names(photos)
    single_seconds = time.perf_counter() - finished
    return {
        "images": len(photos),
        "identities": len(set(labels)),
        "decode_shrink_ms": round(1000 * (decoded - started), 1),
        "identify_ms": result.timings_ms,
        "gallery_ms_per_image": round(1000 * (finished - started) / len(photos), 1),
        "single_image_ms_per_image": round(1000 * single_seconds / len(photos), 1),
        "peak_rss_mb_before": rss_before,
        "peak_rss_mb_after_gallery": rss_gallery,
        "persons": len(result.persons),
        "gallery_rule": _score(_gallery_names(result), labels),
        "single_image_rule": _score(single_names, labels),
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
