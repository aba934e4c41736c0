"""Stash's own GraphQL API: the one chokepoint through which the service talks to Stash."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from stash.documents import stash_document
from stashsense.errors import (
    ApplicationError,
    NotFound,
    TimedOut,
    TooLarge,
    Unavailable,
    Unprocessable,
    UpstreamFailed,
)
from stashsense.http import (
    AuthError,
    FetchesBusy,
    NotFoundError,
    OutboundClient,
    OutboundError,
    RangedReader,
    ResponseTooLargeError,
    TransientError,
    bounded_fetches,
)

_Result = TypeVar("_Result")


class StashError(ApplicationError):
    """Stash could not be asked, or said no; the message is fit for a user.

    Raised as one of the kinds below, which say what the domain makes of it.
    """


class StashNotConfigured(StashError):
    """No STASH_URL: nothing to ask."""


class StashSceneMissing(StashError, NotFound):
    """Stash has no scene of that id."""


class StashSceneUnusable(StashError, Unprocessable):
    """The scene exists, but Stash has nothing to identify it from (no sprite generated)."""


class StashImageMissing(StashError, NotFound):
    """Stash has no image (or gallery) of that id."""


class StashImageUnusable(StashError, Unprocessable):
    """The image exists, but is no picture we can read (a clip, a missing file, a gallery
    without images)."""


class StashImageTooLarge(StashError, TooLarge):
    """The image's file, or the gallery, is over the service's limits."""


class StashFailed(StashError, UpstreamFailed):
    """Stash is unreachable, refused our API key, or answered with something unusable."""


class StashTimedOut(StashError, TimedOut):
    """Stash stopped sending (a stalled stream) or was too slow for the request's time."""


def stash_error_of(error: OutboundError, what: str) -> StashError:
    """What a failed request to Stash means for the user, by the kind of failure."""
    if isinstance(error, AuthError):
        return StashFailed("Stash refused the API key (STASH_API_KEY).", code="stash_auth")
    if (
        isinstance(error, TransientError)
        and "timeout" in str(error).lower() + type(error).__name__.lower()
    ):
        return StashTimedOut(
            f"Stash stalled while sending the {what}: {error}", code="stash_timeout"
        )
    return StashFailed(f"Could not read the {what} from Stash: {error}", code="stash_unreachable")


@dataclass(frozen=True)
class StashStashId:
    endpoint: str
    stash_id: str


@dataclass(frozen=True)
class StashScene:
    id: str
    title: str
    sprite_url: str | None
    vtt_url: str | None
    screenshot_url: str | None
    performer_ids: tuple[str, ...]
    cast_stash_ids: tuple[StashStashId, ...]
    stream_url: str | None = None


@dataclass(frozen=True)
class StashImage:
    """A Stash image: its file's URL, whether that file is a clip, its size in bytes."""

    id: str
    title: str
    image_url: str | None
    is_video: bool
    size: int | None
    performer_ids: tuple[str, ...] = ()
    cast_stash_ids: tuple[StashStashId, ...] = ()


@dataclass(frozen=True)
class StashGallery:
    id: str
    title: str
    image_count: int
    performer_ids: tuple[str, ...]
    cast_stash_ids: tuple[StashStashId, ...]


@dataclass(frozen=True)
class ImagePage:
    count: int
    images: list[StashImage]


@dataclass(frozen=True)
class ScenePage:
    count: int
    scenes: list[StashScene]


def _scene(raw: Mapping[str, Any]) -> StashScene:
    paths = raw.get("paths") or {}
    performers = raw.get("performers") or []
    return StashScene(
        id=str(raw["id"]),
        title=str(raw.get("title") or ""),
        sprite_url=paths.get("sprite") or None,
        vtt_url=paths.get("vtt") or None,
        screenshot_url=paths.get("screenshot") or None,
        stream_url=paths.get("stream") or None,
        performer_ids=tuple(str(p["id"]) for p in performers),
        cast_stash_ids=tuple(
            StashStashId(str(s["endpoint"]), str(s["stash_id"]))
            for p in performers
            for s in (p.get("stash_ids") or [])
        ),
    )


def _performers(raw: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[StashStashId, ...]]:
    performers = raw.get("performers") or []
    return (
        tuple(str(p["id"]) for p in performers),
        tuple(
            StashStashId(str(s["endpoint"]), str(s["stash_id"]))
            for p in performers
            for s in (p.get("stash_ids") or [])
        ),
    )


def _image(raw: Mapping[str, Any]) -> StashImage:
    files = [f for f in raw.get("visual_files") or [] if isinstance(f, Mapping)]
    first = files[0] if files else {}
    size = first.get("size")
    performer_ids, cast = _performers(raw)
    return StashImage(
        id=str(raw["id"]),
        title=str(raw.get("title") or ""),
        image_url=(raw.get("paths") or {}).get("image") or None,
        is_video=first.get("__typename") == "VideoFile",
        size=int(size) if isinstance(size, int | float) else None,
        performer_ids=performer_ids,
        cast_stash_ids=cast,
    )


def _gallery(raw: Mapping[str, Any]) -> StashGallery:
    performer_ids, cast = _performers(raw)
    return StashGallery(
        id=str(raw["id"]),
        title=str(raw.get("title") or ""),
        image_count=int(raw.get("image_count") or 0),
        performer_ids=performer_ids,
        cast_stash_ids=cast,
    )


class StashClient:
    """A Stash server at `url` (e.g. http://stash:9999), authenticated with its API key."""

    def __init__(self, url: str, api_key: str, http: OutboundClient | None = None) -> None:
        if not url:
            raise StashNotConfigured("STASH_URL is not configured.", code="stash_not_configured")
        self.base_url = url.rstrip("/") + "/"
        self.graphql_url = urljoin(self.base_url, "graphql")
        self.api_key = api_key
        host = urlsplit(self.base_url).hostname or ""
        # Stash usually lives on the LAN: allow its host explicitly, nothing else.
        self.http = http or OutboundClient(allowed_hosts={host}, retries=2, timeout=(5, 60))

    def _bounded(self, fetch: Callable[[], _Result]) -> _Result:
        """A call to Stash under the process's bound on Stash fetches (deadline, how many)."""
        try:
            return bounded_fetches("stash").run(fetch)
        except FetchesBusy as error:
            raise Unavailable(
                "Too many requests to Stash are in flight (is Stash slow?); try again shortly.",
                code="stash_busy",
                retry_after=5,
            ) from error

    def _headers(self) -> dict[str, str]:
        return {"ApiKey": self.api_key} if self.api_key else {}

    def _query(self, operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self._bounded(
                lambda: self.http.graphql(
                    self.graphql_url,
                    stash_document(operation),
                    dict(variables),
                    headers=self._headers(),
                )
            )
        except AuthError as error:
            raise StashFailed(
                "Stash refused the API key (STASH_API_KEY).", code="stash_auth"
            ) from error
        except OutboundError as error:
            raise StashFailed(
                f"Stash is not reachable or answered an error: {error}", code="stash_unreachable"
            ) from error

    def find_scene(self, scene_id: str, *, with_stream: bool = False) -> StashScene:
        """A scene with its previews and cast (and its video stream URL `with_stream`)."""
        document = "FindSceneForVideo" if with_stream else "FindSceneForIdentify"
        data = self._query(document, {"id": scene_id})
        raw = data.get("findScene")
        if raw is None:
            raise StashSceneMissing(f"Stash has no scene {scene_id}.", code="scene_not_found")
        return _scene(raw)

    def scenes_page(
        self, page: int, per_page: int, scene_filter: Mapping[str, Any] | None = None
    ) -> ScenePage:
        data = self._query(
            "FindScenesPage", {"page": page, "per_page": per_page, "scene_filter": scene_filter}
        )
        found = data.get("findScenes") or {}
        return ScenePage(
            count=int(found.get("count") or 0),
            scenes=[_scene(s) for s in found.get("scenes") or []],
        )

    def find_image(self, image_id: str) -> StashImage:
        raw = self._query("FindImageForIdentify", {"id": image_id}).get("findImage")
        if raw is None:
            raise StashImageMissing(f"Stash has no image {image_id}.", code="image_not_found")
        return _image(raw)

    def find_gallery(self, gallery_id: str) -> StashGallery:
        raw = self._query("FindGalleryForIdentify", {"id": gallery_id}).get("findGallery")
        if raw is None:
            raise StashImageMissing(f"Stash has no gallery {gallery_id}.", code="gallery_not_found")
        return _gallery(raw)

    def gallery_images_page(self, gallery_id: str, page: int, per_page: int) -> ImagePage:
        variables = {"gallery_id": gallery_id, "page": page, "per_page": per_page}
        found = self._query("FindGalleryImagesPage", variables).get("findImages") or {}
        return ImagePage(
            count=int(found.get("count") or 0),
            images=[_image(raw) for raw in found.get("images") or []],
        )

    def image_file(self, image: StashImage, *, max_bytes: int) -> bytes:
        """The picture of a Stash image, at most `max_bytes`; clear errors for clips, files
        Stash cannot serve and files over the limit (refused by size before downloading)."""
        what = f"image {image.id}"
        if image.is_video:
            raise StashImageUnusable(
                f"Stash {what} is a video clip, not a picture.", code="image_is_video"
            )
        if not image.image_url:
            raise StashImageUnusable(f"Stash {what} has no file.", code="image_file_missing")
        mib = 1024 * 1024
        limit = f"{max_bytes // mib} MiB" if max_bytes >= mib else f"{max_bytes} bytes"
        too_large = StashImageTooLarge(
            f"Stash {what} is larger than the {limit} limit (STASHSENSE_MAX_UPLOAD_BYTES).",
            code="too_large",
        )
        if image.size is not None and image.size > max_bytes:
            raise too_large
        absolute = urljoin(self.base_url, image.image_url)
        if urlsplit(absolute).hostname != urlsplit(self.base_url).hostname:
            raise StashFailed(f"Stash pointed {what} at another host.", code="stash_bad_path")
        try:
            return self.http.get(absolute, headers=self._headers(), max_bytes=max_bytes).content
        except ResponseTooLargeError as error:
            raise too_large from error
        except NotFoundError as error:
            raise StashImageUnusable(
                f"Stash could not serve the file of {what} (HTTP 404).",
                code="image_file_missing",
            ) from error
        except AuthError as error:
            raise StashFailed(
                "Stash refused the API key (STASH_API_KEY).", code="stash_auth"
            ) from error
        except OutboundError as error:
            raise StashFailed(
                f"Could not download {what} from Stash: {error}", code="stash_unreachable"
            ) from error

    def download(self, url: str, *, what: str) -> bytes:
        """A file Stash generated (sprite, VTT, screenshot); only from Stash's own host."""
        absolute = urljoin(self.base_url, url)
        if urlsplit(absolute).hostname != urlsplit(self.base_url).hostname:
            raise StashFailed(f"Stash pointed the {what} at another host.", code="stash_bad_path")
        try:
            return self._bounded(lambda: self.http.get(absolute, headers=self._headers()).content)
        except NotFoundError as error:
            raise StashSceneUnusable(
                f"The scene has no {what}: generate sprites in Stash (Tasks → Generate → Sprites).",
                code="no_sprite",
            ) from error
        except AuthError as error:
            raise StashFailed(
                "Stash refused the API key (STASH_API_KEY).", code="stash_auth"
            ) from error
        except OutboundError as error:
            raise StashFailed(
                f"Could not download the {what} from Stash: {error}", code="stash_unreachable"
            ) from error

    def _own_url(self, url: str, what: str) -> str:
        absolute = urljoin(self.base_url, url)
        if urlsplit(absolute).hostname != urlsplit(self.base_url).hostname:
            raise StashFailed(f"Stash pointed the {what} at another host.", code="stash_bad_path")
        return absolute

    def open_stream(
        self, scene: StashScene, *, deadline: float | None, max_bytes: int, read_timeout: float
    ) -> RangedReader:
        """The scene's video as a seekable file read with HTTP Range (never downloaded whole)."""
        if not scene.stream_url:
            raise StashSceneUnusable("Stash has no video stream for this scene.", code="no_video")
        url = self._own_url(scene.stream_url, "video stream")
        http = OutboundClient(
            allowed_hosts=self.http.allowed_hosts, retries=0, timeout=(5, read_timeout)
        )
        try:
            return RangedReader(
                http, url, headers=self._headers(), max_bytes=max_bytes, deadline=deadline
            )
        except NotFoundError as error:
            raise StashSceneUnusable(
                "Stash has no video file for this scene (404 from its stream).", code="no_video"
            ) from error
        except OutboundError as error:
            raise stash_error_of(error, "video") from error

    def scene_screenshot(self, scene: StashScene) -> bytes | None:
        """The scene's cover screenshot, or None when Stash has none."""
        if not scene.screenshot_url:
            return None
        try:
            return self.download(scene.screenshot_url, what="screenshot")
        except StashSceneUnusable:
            return None

    def scene_sprite(self, scene: StashScene) -> tuple[bytes, str]:
        """The sprite image and VTT text of a scene; a clear error when none was generated."""
        if not scene.sprite_url or not scene.vtt_url:
            raise StashSceneUnusable(
                "The scene has no sprite: generate sprites in Stash (Tasks → Generate → Sprites).",
                code="no_sprite",
            )
        sprite = self.download(scene.sprite_url, what="sprite")
        vtt = self.download(scene.vtt_url, what="VTT").decode("utf-8", errors="replace")
        return sprite, vtt
