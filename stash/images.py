"""Stash images and galleries: an image's picture fetched from Stash, a gallery identified.

A gallery is identified the way a scene is: its images are the frames, their faces are
clustered into persons across images and each person's faces vote (recognition's
`identify_frames`). So a person is named only on the evidence a scene needs: the system we
replace named a person from any single image and was right 3.6 % of the time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import cv2
import numpy as np
from django.conf import settings

from recognition.engine.tiles import CANVAS, TILE_SCALE
from recognition.engine.types import ImageBGR
from recognition.identification import (
    IdentifiedPerson,
    SceneIdentification,
    decode_sent_image,
    identify_frames,
)
from recognition.scenes import SceneFrame
from stash.client import (
    StashClient,
    StashGallery,
    StashImage,
    StashImageTooLarge,
    StashImageUnusable,
)
from stash.library_scans import stash_client
from stashsense.errors import InvalidInput

# Images are shrunk to this long side before detection: the scene path enlarges every frame
# by TILE_SCALE and detects on a CANVAS-sized input, so at this size one image fills one
# detector canvas exactly (the detector sees what it would see of the full photo) and a
# gallery of hundreds of images holds ~1 MB per image rather than the photos' own sizes.
GALLERY_IMAGE_SIDE = int(CANVAS / TILE_SCALE)
IMAGES_PER_PAGE = 100


def max_image_bytes() -> int:
    """The upload limit (STASHSENSE_MAX_UPLOAD_BYTES) holds for pictures fetched from Stash."""
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


# --- one image -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StashImageMedia:
    """A Stash image's picture (bytes as Stash serves them) and its performers' stash IDs."""

    image_id: str
    data: bytes
    cast: list[dict[str, str]]


def stash_image_media(*, stash_image_id: str, client: StashClient | None = None) -> StashImageMedia:
    """Fetch a Stash image's picture (StashError kinds when Stash cannot serve it)."""
    client = client or stash_client()
    image = client.find_image(str(stash_image_id))
    data = client.image_file(image, max_bytes=max_image_bytes())
    cast = [{"endpoint": s.endpoint, "stash_id": s.stash_id} for s in image.cast_stash_ids]
    return StashImageMedia(image_id=image.id, data=data, cast=cast)


def stash_image_unreadable(stash_image_id: str, error: InvalidInput) -> StashImageUnusable:
    """What a picture from Stash that does not decode is: Stash's content, not a bad request."""
    return StashImageUnusable(f"Stash image {stash_image_id}: {error.message}", code=error.code)


# --- a gallery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonImage:
    """One image a person of a gallery appears in, and the face's box in that image's pixels."""

    stash_image_id: str
    box: dict[str, int]


@dataclass(frozen=True)
class GalleryPerson(IdentifiedPerson):
    """A person of a gallery: as a person of a scene, with the Stash images they are in."""

    images: list[PersonImage] = field(default_factory=list)


@dataclass(frozen=True)
class SkippedImage:
    stash_image_id: str
    reason: str


@dataclass(frozen=True)
class GalleryIdentification:
    """The persons of a Stash gallery, from `images` of its `gallery_images` images."""

    stash_gallery_id: str
    gallery_images: int
    images: int
    trimmed: bool
    faces: int
    persons: list[GalleryPerson]
    skipped: list[SkippedImage]
    profile: str
    index_version: str
    timings_ms: dict[str, float] = field(default_factory=dict)


def gallery_image_limit(gallery: StashGallery, max_images: int | None) -> int:
    """How many of the gallery's images to identify; a clear refusal for a gallery that is
    empty, or larger than the limit when no `max_images` asked for only its first images."""
    if gallery.image_count <= 0:
        raise StashImageUnusable(f"Stash gallery {gallery.id} has no images.", code="gallery_empty")
    ceiling = int(settings.STASHSENSE_MAX_GALLERY_IMAGES)
    if max_images is None and gallery.image_count > ceiling:
        raise StashImageTooLarge(
            f"Stash gallery {gallery.id} has {gallery.image_count} images; at most {ceiling} "
            "are identified at once (STASHSENSE_MAX_GALLERY_IMAGES). Send `max_images` to "
            "identify only its first ones.",
            code="gallery_too_large",
        )
    return min(gallery.image_count, ceiling, max_images or ceiling)


def gallery_images(client: StashClient, gallery_id: str, limit: int) -> list[StashImage]:
    """The gallery's first `limit` images in id order, a page at a time."""
    images: list[StashImage] = []
    page = 1
    per_page = min(IMAGES_PER_PAGE, limit)
    while len(images) < limit:
        found = client.gallery_images_page(gallery_id, page, per_page).images
        images += found[: limit - len(images)]
        if len(found) < per_page:
            break
        page += 1
    return images


def bounded_image(image: ImageBGR) -> ImageBGR:
    """The image shrunk (never enlarged) so its long side is at most GALLERY_IMAGE_SIDE."""
    long_side = max(image.shape[:2])
    if long_side <= GALLERY_IMAGE_SIDE:
        return image
    scale = GALLERY_IMAGE_SIDE / long_side
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small, dtype=np.uint8)


def _gallery_frames(
    client: StashClient, images: Sequence[StashImage]
) -> tuple[list[SceneFrame], list[str], list[SkippedImage]]:
    """One frame per readable image; an image Stash cannot serve or that is no picture is
    skipped with its reason (Stash itself failing stops everything, as StashFailed)."""
    frames: list[SceneFrame] = []
    image_ids: list[str] = []
    skipped: list[SkippedImage] = []
    for image in images:
        try:
            data = client.image_file(image, max_bytes=max_image_bytes())
            picture = decode_sent_image(data, f"image {image.id}")
        except (StashImageUnusable, StashImageTooLarge, InvalidInput) as error:
            skipped.append(SkippedImage(image.id, error.message))
            continue
        frames.append(SceneFrame(index=len(frames), image=bounded_image(picture)))
        image_ids.append(image.id)
    return frames, image_ids, skipped


def _gallery_person(person: IdentifiedPerson, image_ids: Sequence[str]) -> GalleryPerson:
    """A scene person whose frames are gallery images, with those images' Stash ids."""
    seen: set[str] = set()
    images = []
    for frame in person.frames:
        image_id = image_ids[frame.index]
        if image_id not in seen:
            seen.add(image_id)
            images.append(PersonImage(image_id, frame.box))
    base = {f.name: getattr(person, f.name) for f in fields(IdentifiedPerson)}
    return GalleryPerson(**base, images=images)


@dataclass(frozen=True)
class StashGalleryMedia:
    """What identifying a gallery needs, read from Stash: one frame per readable image."""

    gallery: StashGallery
    listed: int
    frames: list[SceneFrame]
    image_ids: list[str]
    skipped: list[SkippedImage]

    @property
    def cast(self) -> list[dict[str, str]]:
        return [
            {"endpoint": s.endpoint, "stash_id": s.stash_id} for s in self.gallery.cast_stash_ids
        ]


def stash_gallery_media(
    *, stash_gallery_id: str, max_images: int | None = None, client: StashClient | None = None
) -> StashGalleryMedia:
    """Read a gallery's images from Stash (at most the limit), decoded and shrunk."""
    client = client or stash_client()
    gallery = client.find_gallery(str(stash_gallery_id))
    images = gallery_images(client, gallery.id, gallery_image_limit(gallery, max_images))
    frames, image_ids, skipped = _gallery_frames(client, images)
    if not frames:
        reasons = "; ".join(s.reason for s in skipped[:3]) or "Stash listed none"
        raise StashImageUnusable(
            f"None of Stash gallery {gallery.id}'s images could be read: {reasons}.",
            code="gallery_unreadable",
        )
    return StashGalleryMedia(gallery, len(images), frames, image_ids, skipped)


def gallery_identify(
    *,
    media: StashGalleryMedia,
    known_performer_ids: Collection[Any] = (),
    top_k: int = 3,
    threshold: float | None = None,
) -> GalleryIdentification:
    """A gallery's images as the frames of one scene: persons across images, then votes."""
    scene: SceneIdentification = identify_frames(
        frames=media.frames,
        known_performer_ids=[*known_performer_ids, *media.cast],
        top_k=top_k,
        threshold=threshold,
    )
    return GalleryIdentification(
        stash_gallery_id=media.gallery.id,
        gallery_images=media.gallery.image_count,
        images=len(media.frames),
        trimmed=media.listed < media.gallery.image_count,
        faces=scene.faces,
        persons=[_gallery_person(person, media.image_ids) for person in scene.persons],
        skipped=media.skipped,
        profile=scene.profile,
        index_version=scene.index_version,
        timings_ms=scene.timings_ms,
    )
