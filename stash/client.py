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


class StashFailed(StashError, UpstreamFailed):
    """Stash is unreachable, refused our API key, or answered with something unusable."""


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
        performer_ids=tuple(str(p["id"]) for p in performers),
        cast_stash_ids=tuple(
            StashStashId(str(s["endpoint"]), str(s["stash_id"]))
            for p in performers
            for s in (p.get("stash_ids") or [])
        ),
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

    def find_scene(self, scene_id: str) -> StashScene:
        data = self._query("FindSceneForIdentify", {"id": scene_id})
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
