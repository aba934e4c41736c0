"""A fake Stash: a real HTTP server on 127.0.0.1 that executes Stash's own GraphQL schema.

    with FakeStash(scenes=[FakeScene("1", sprite=SPRITE, vtt=VTT)], api_key="k") as stash:
        OutboundClient().graphql(stash.graphql_url, "{ ... }", headers={"ApiKey": "k"})
        assert stash.mutations_of("bulkSceneUpdate")[0].arguments["input"]["performer_ids"]

Behaves like Stash where our code depends on it:
- `POST /graphql` runs `../shared/specs/stash/**/*.graphql` (graphql-core): parse and
  validation errors get 422 with an `errors` list, as gqlgen answers; resolver errors come
  back in `errors` with HTTP 200. Anything not implemented here fails with a GraphQL error
  ("fake Stash does not implement ...") instead of returning made-up data.
- Implemented: `findScene`, `findScenes` (LIMIT/OFFSET paging, sort `id`, a few
  `scene_filter` criteria), `findImage`, `findImages` (paging, sort `id`, `image_filter`
  `galleries`), `findGallery`, `bulkImageUpdate` and `bulkGalleryUpdate` (performer ids),
  `findPerformer`, `findPerformers` (`stash_id_endpoint`, `name`,
  `q`), `performerCreate` (name + disambiguation must be unique), `bulkSceneUpdate` (performer
  ids honour SET / ADD / REMOVE), `configuration.plugins(include)` and
  `configuration.general.stashBoxes`. Every mutation field received, implemented or not, is
  recorded in `mutations` (so a test can assert `sceneUpdate` was never sent).
- With `api_key` (or `session_cookie`) set, `/graphql` and the scene files need the `ApiKey`
  header (or the `session` cookie); without them: HTTP 401, empty body.
- `paths` of a scene are `<url>/scene/<id>/{sprite,vtt,screenshot,stream,...}`; sprite, VTT
  and screenshot are served from the files given to `FakeScene` (404 when not given, like a
  scene whose previews were never generated); `stream` serves `FakeScene.video` with HTTP
  Range (206 + Content-Range, 416 past the end), as Stash serves a scene's file. The sprite is also served under its own file name,
  which is how the VTT's relative `name_sprite.jpg#xywh=...` references resolve.
- `paths.image` of an image is `<url>/image/<id>/image` (and `thumbnail`), served from the
  file given to `FakeImage` (404 when none), under the same credentials as scene files.
- For browser tests: `static_dirs` ({"/plugin/stash-sense/": folder}) are served as files and
  `page` (an HTML file) at `/` and `/scenes/<id>`, with a Content-Security-Policy like Stash's
  (`connect-src 'self'` plus `page_connect_src`). Canned JSON for other services (the Stash
  Sense API in the plugin's browser test) goes through `add_route` of `FakeHttpServer`.

Faults, counting and request logs come from `FakeHttpServer` (`fail_next`, `slow_next`,
`request_count("/graphql")`, `requests_to(...)`).
"""

from __future__ import annotations

import copy
import json
import mimetypes
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationType,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.execution import ExecutionResult

from fakes.server import CannedResponse, FakeHttpServer, RecordedRequest

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMESTAMP = "2024-01-01T00:00:00Z"
SCENE_FILE_ROUTE = re.compile(r"^/scene/(?P<id>\d+)/(?P<kind>[^/]+)$")
IMAGE_FILE_ROUTE = re.compile(r"^/image/(?P<id>\d+)/(?P<kind>image|thumbnail)$")
PAGE_ROUTE = re.compile(r"^/(?:scenes/[^/]+/?)?$")


def stash_schema_dir() -> Path:
    """`$STASHSENSE_STASH_SCHEMA_DIR`, else `<repo>/../shared/specs/stash`."""
    configured = os.environ.get("STASHSENSE_STASH_SCHEMA_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared/specs/stash"


@cache
def build_stash_schema(schema_dir: Path | None = None) -> GraphQLSchema:
    """Stash's schema: every .graphql file under the spec folder, concatenated and built."""
    folder = schema_dir or stash_schema_dir()
    files = sorted(folder.glob("**/*.graphql"))
    if not files:
        raise FileNotFoundError(f"no Stash schema (*.graphql) under {folder}")
    return build_schema("\n".join(path.read_text("utf-8") for path in files))


@dataclass
class FakePerformer:
    """A local Stash performer. `stash_ids` are (endpoint, stash_id) pairs."""

    id: str
    name: str
    disambiguation: str | None = None
    alias_list: list[str] = field(default_factory=list)
    stash_ids: list[tuple[str, str]] = field(default_factory=list)
    image: str | None = None


@dataclass
class FakeScene:
    """A Stash scene with its cast and, optionally, its generated sprite, VTT and screenshot."""

    id: str
    title: str | None = None
    performer_ids: list[str] = field(default_factory=list)
    sprite: Path | None = None
    vtt: Path | None = None
    screenshot: Path | None = None
    organized: bool = False
    video: Path | None = None  # served at /scene/<id>/stream, with HTTP Range


@dataclass
class FakeImage:
    """A Stash image: its file (a photo, or a clip when `video`), galleries and performers."""

    id: str
    file: Path | None = None
    title: str | None = None
    gallery_ids: list[str] = field(default_factory=list)
    performer_ids: list[str] = field(default_factory=list)
    video: bool = False


@dataclass
class FakeGallery:
    """A Stash gallery; its images are the `FakeImage`s naming it in `gallery_ids`."""

    id: str
    title: str | None = None
    performer_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FakeStashBoxConfig:
    """A stash-box endpoint as configured in Stash's settings."""

    endpoint: str
    api_key: str
    name: str
    max_requests_per_minute: int = 240


@dataclass(frozen=True)
class RecordedMutation:
    """One top-level mutation field the fake was asked to run, with its coerced arguments."""

    field: str
    arguments: dict[str, Any]


class FakeStashError(Exception):
    """Raised by a resolver; graphql-core turns it into a GraphQL error, as Stash's are."""


class FakeStash(FakeHttpServer):
    """A Stash server on 127.0.0.1 holding fixture scenes and performers (see the module docs)."""

    def __init__(
        self,
        *,
        scenes: Iterable[FakeScene] = (),
        performers: Iterable[FakePerformer] = (),
        images: Iterable[FakeImage] = (),
        galleries: Iterable[FakeGallery] = (),
        stash_boxes: Iterable[FakeStashBoxConfig] = (),
        plugins: Mapping[str, Mapping[str, Any]] | None = None,
        api_key: str | None = None,
        session_cookie: str | None = None,
        static_dirs: Mapping[str, Path] | None = None,
        page: Path | None = None,
        page_connect_src: Sequence[str] = (),
        schema_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.schema = build_stash_schema(schema_dir)
        self.scenes: dict[str, FakeScene] = {scene.id: scene for scene in scenes}
        self.performers: dict[str, FakePerformer] = {p.id: p for p in performers}
        self.images: dict[str, FakeImage] = {image.id: image for image in images}
        self.galleries: dict[str, FakeGallery] = {gallery.id: gallery for gallery in galleries}
        self.stash_boxes = list(stash_boxes)
        self.plugins: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (plugins or {}).items()}
        self.api_key = api_key
        self.session_cookie = session_cookie
        self.static_dirs = {prefix: Path(d).resolve() for prefix, d in (static_dirs or {}).items()}
        self.page = page
        self.page_connect_src = list(page_connect_src)
        self.mutations: list[RecordedMutation] = []
        self._data_lock = threading.RLock()

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    # -- fixtures and assertions -------------------------------------------------------------

    def add_scene(self, scene: FakeScene) -> FakeScene:
        with self._data_lock:
            self.scenes[scene.id] = scene
        return scene

    def add_image(self, image: FakeImage) -> FakeImage:
        with self._data_lock:
            self.images[image.id] = image
        return image

    def add_gallery(self, gallery: FakeGallery) -> FakeGallery:
        with self._data_lock:
            self.galleries[gallery.id] = gallery
        return gallery

    def add_performer(self, performer: FakePerformer) -> FakePerformer:
        with self._data_lock:
            self.performers[performer.id] = performer
        return performer

    def mutations_of(self, field_name: str) -> list[RecordedMutation]:
        with self._data_lock:
            return [m for m in self.mutations if m.field == field_name]

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> ExecutionResult:
        """Run a document against the fixtures without HTTP (validation errors included)."""
        try:
            document = parse(query)
        except GraphQLError as error:
            return ExecutionResult(None, [error])
        problems = validate(self.schema, document)
        if problems:
            return ExecutionResult(None, problems)
        with self._data_lock:
            return execute_sync(
                self.schema,
                document,
                root_value=_Root(self),
                variable_values=dict(variables or {}),
                operation_name=operation_name,
            )

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> CannedResponse:
        if (request.method, request.path) in self._routes:
            return super().handle(request)
        if request.path == "/graphql" and request.method == "POST":
            return self._graphql(request) if self._authorized(request) else CannedResponse(401)
        match = SCENE_FILE_ROUTE.match(request.path)
        if match and request.method in ("GET", "HEAD"):
            if not self._authorized(request):
                return CannedResponse(401)
            if match["kind"] == "stream":
                return self._scene_stream(match["id"], request)
            return self._scene_file(match["id"], match["kind"])
        image_match = IMAGE_FILE_ROUTE.match(request.path)
        if image_match and request.method in ("GET", "HEAD"):
            if not self._authorized(request):
                return CannedResponse(401)
            return self._image_file(image_match["id"])
        if request.method in ("GET", "HEAD"):
            if self.page is not None and PAGE_ROUTE.match(request.path):
                return self._page_response()
            static = self._static_file(request.path)
            if static is not None:
                return _file_response(static)
        return super().handle(request)

    def _authorized(self, request: RecordedRequest) -> bool:
        """Stash's rule: with credentials configured, an ApiKey header or a session is needed."""
        if self.api_key is None and self.session_cookie is None:
            return True
        if self.api_key is not None and request.headers.get("apikey") == self.api_key:
            return True
        session = SimpleCookie(request.headers.get("cookie") or "").get("session")
        return (
            self.session_cookie is not None
            and session is not None
            and session.value == self.session_cookie
        )

    def _graphql(self, request: RecordedRequest) -> CannedResponse:
        try:
            payload = json.loads(request.body)
            query = payload["query"]
        except (ValueError, KeyError, TypeError):
            return CannedResponse.json({"errors": [{"message": "bad request body"}]}, 400)
        result = self.execute(query, payload.get("variables"), payload.get("operationName"))
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        invalid = result.data is None and result.errors and not any(e.path for e in result.errors)
        return CannedResponse.json(body, 422 if invalid else 200)

    def _scene_file(self, scene_id: str, kind: str) -> CannedResponse:
        with self._data_lock:
            scene = self.scenes.get(scene_id)
        files: dict[str, Path | None] = {}
        if scene is not None:
            files = {"sprite": scene.sprite, "vtt": scene.vtt, "screenshot": scene.screenshot}
            if scene.sprite is not None:
                files[scene.sprite.name] = scene.sprite
        path = files.get(kind)
        if path is None:
            return CannedResponse(404, b"404 page not found\n", {"Content-Type": "text/plain"})
        return _file_response(path, "text/vtt; charset=utf-8" if kind == "vtt" else None)

    def _image_file(self, image_id: str) -> CannedResponse:
        with self._data_lock:
            image = self.images.get(image_id)
        if image is None or image.file is None:
            return CannedResponse(404, b"404 page not found\n", {"Content-Type": "text/plain"})
        return _file_response(image.file)

    def _scene_stream(self, scene_id: str, request: RecordedRequest) -> CannedResponse:
        """The scene's video as Stash streams a file: Range requests get 206 and their bytes."""
        with self._data_lock:
            scene = self.scenes.get(scene_id)
        if scene is None or scene.video is None:
            return CannedResponse(404, b"404 page not found\n", {"Content-Type": "text/plain"})
        return ranged_file_response(scene.video, request.headers.get("range"))

    def _static_file(self, path: str) -> Path | None:
        for prefix, directory in self.static_dirs.items():
            if path.startswith(prefix):
                candidate = (directory / path.removeprefix(prefix)).resolve()
                if candidate.is_file() and candidate.is_relative_to(directory):
                    return candidate
        return None

    def _page_response(self) -> CannedResponse:
        assert self.page is not None
        connect_src = " ".join(["'self'", *self.page_connect_src])
        csp = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' http: https: data: blob:; connect-src {connect_src}"
        )
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp}
        return CannedResponse(200, self.page.read_bytes(), headers)

    # -- views as Stash's types ------------------------------------------------------------------

    def scene_type(self, scene: FakeScene) -> dict[str, Any]:
        base = f"{self.url}/scene/{scene.id}"
        generated = ("screenshot", "preview", "stream", "webp", "vtt", "sprite", "funscript")
        paths: dict[str, str | None] = {kind: f"{base}/{kind}" for kind in generated}
        paths.update(interactive_heatmap=None, caption=None)
        return {
            "id": scene.id,
            "title": scene.title,
            "urls": [],
            "organized": scene.organized,
            "interactive": False,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "play_history": [],
            "o_history": [],
            "files": [],
            "paths": paths,
            "scene_markers": [],
            "galleries": [],
            "groups": [],
            "movies": [],
            "tags": [],
            "stash_ids": [],
            "sceneStreams": [],
            "performers": lambda _info: [
                self.performer_type(self.performers[pid]) for pid in scene.performer_ids
            ],
        }

    def performer_type(self, performer: FakePerformer) -> dict[str, Any]:
        def scenes(_info: GraphQLResolveInfo) -> list[dict[str, Any]]:
            return [self.scene_type(s) for s in self.scenes_with(performer.id)]

        return {
            "id": performer.id,
            "name": performer.name,
            "disambiguation": performer.disambiguation,
            "alias_list": list(performer.alias_list),
            "favorite": False,
            "tags": [],
            "ignore_auto_tag": False,
            "image_path": f"{self.url}/performer/{performer.id}/image",
            "scene_count": lambda _info: len(self.scenes_with(performer.id)),
            "image_count": 0,
            "gallery_count": 0,
            "group_count": 0,
            "movie_count": 0,
            "performer_count": 0,
            "scenes": scenes,
            "stash_ids": [
                {"endpoint": endpoint, "stash_id": stash_id, "updated_at": TIMESTAMP}
                for endpoint, stash_id in performer.stash_ids
            ],
            "urls": [],
            "custom_fields": {},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "groups": [],
            "movies": [],
        }

    def image_type(self, image: FakeImage) -> dict[str, Any]:
        base = f"{self.url}/image/{image.id}"
        size = image.file.stat().st_size if image.file is not None else 0
        kind = "VideoFile" if image.video else "ImageFile"
        return {
            "id": image.id,
            "title": image.title,
            "urls": [],
            "organized": False,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "files": [],
            "visual_files": [{"__typename": kind, "size": size, "width": 0, "height": 0}],
            "paths": {"image": f"{base}/image", "thumbnail": f"{base}/thumbnail", "preview": None},
            "galleries": lambda _info: [
                self.gallery_type(self.galleries[g]) for g in image.gallery_ids
            ],
            "tags": [],
            "performers": lambda _info: [
                self.performer_type(self.performers[pid]) for pid in image.performer_ids
            ],
        }

    def gallery_type(self, gallery: FakeGallery) -> dict[str, Any]:
        return {
            "id": gallery.id,
            "title": gallery.title,
            "urls": [],
            "organized": False,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "files": [],
            "chapters": [],
            "scenes": [],
            "tags": [],
            "image_count": lambda _info: len(self.images_in(gallery.id)),
            "performers": lambda _info: [
                self.performer_type(self.performers[pid]) for pid in gallery.performer_ids
            ],
            "paths": {"cover": "", "preview": ""},
        }

    def images_in(self, gallery_id: str) -> list[FakeImage]:
        return [image for image in self.images.values() if gallery_id in image.gallery_ids]

    def scenes_with(self, performer_id: str) -> list[FakeScene]:
        return [s for s in self.scenes.values() if performer_id in s.performer_ids]

    def record(self, field_name: str, arguments: Mapping[str, Any]) -> None:
        self.mutations.append(RecordedMutation(field_name, copy.deepcopy(dict(arguments))))


def _file_response(path: Path, content_type: str | None = None) -> CannedResponse:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if guessed.startswith("text/") or guessed.endswith("javascript"):
        guessed += "; charset=utf-8"
    return CannedResponse(200, path.read_bytes(), {"Content-Type": content_type or guessed})


RANGE_HEADER = re.compile(r"^bytes=(\d*)-(\d*)$")


def ranged_file_response(path: Path, range_header: str | None) -> CannedResponse:
    """A file as Go's http.ServeContent sends it: whole (200) or one byte range (206/416)."""
    size = path.stat().st_size
    headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes"}
    match = RANGE_HEADER.match((range_header or "").strip())
    if match is None or not (match[1] or match[2]):
        return CannedResponse(200, path.read_bytes(), headers)
    if match[1]:
        first, last = int(match[1]), min(int(match[2] or size - 1), size - 1)
    else:
        first, last = max(0, size - int(match[2])), size - 1
    if first >= size or first > last:
        return CannedResponse(416, b"", {**headers, "Content-Range": f"bytes */{size}"})
    with path.open("rb") as handle:
        handle.seek(first)
        body = handle.read(last - first + 1)
    return CannedResponse(206, body, {**headers, "Content-Range": f"bytes {first}-{last}/{size}"})


def _id_order(item_id: str) -> tuple[int, str]:
    return (int(item_id), item_id) if item_id.isdigit() else (1 << 62, item_id)


def _page(items: list[Any], find_filter: Mapping[str, Any] | None) -> list[Any]:
    """LIMIT/OFFSET paging the way Stash does it: per_page -1 means everything."""
    find_filter = find_filter or {}
    per_page = find_filter.get("per_page")
    per_page = 25 if per_page is None else per_page
    if per_page < 0:
        return items
    page = max(find_filter.get("page") or 1, 1)
    return items[(page - 1) * per_page : page * per_page]


def _compare_int(actual: int, criterion: Mapping[str, Any]) -> bool:
    value, modifier = criterion["value"], criterion["modifier"]
    checks: dict[str, Callable[[], bool]] = {
        "EQUALS": lambda: actual == value,
        "NOT_EQUALS": lambda: actual != value,
        "GREATER_THAN": lambda: actual > value,
        "LESS_THAN": lambda: actual < value,
        "BETWEEN": lambda: value <= actual <= (criterion.get("value2") or value),
    }
    if modifier not in checks:
        raise FakeStashError(f"fake Stash: modifier {modifier} not implemented for int criteria")
    return checks[modifier]()


def _matches_stash_id(performer: FakePerformer, criterion: Mapping[str, Any]) -> bool:
    endpoint, stash_id, modifier = (
        criterion.get("endpoint"),
        criterion.get("stash_id"),
        criterion["modifier"],
    )
    pairs = [
        (e, s) for e, s in performer.stash_ids if endpoint is None or e == endpoint
    ]  # the endpoint, when given, is a predicate on which pairs count
    if modifier == "EQUALS":
        return any(s == stash_id for _, s in pairs)
    if modifier == "NOT_EQUALS":
        return not any(s == stash_id for _, s in pairs)
    if modifier == "IS_NULL":
        return not pairs
    if modifier == "NOT_NULL":
        return bool(pairs)
    raise FakeStashError(f"fake Stash: modifier {modifier} not implemented for stash_id_endpoint")


def _matches_string(value: str | None, criterion: Mapping[str, Any]) -> bool:
    text, modifier = criterion["value"], criterion["modifier"]
    value = value or ""
    if modifier == "EQUALS":
        return value.lower() == text.lower()
    if modifier == "INCLUDES":
        return text.lower() in value.lower()
    if modifier == "IS_NULL":
        return value == ""
    if modifier == "NOT_NULL":
        return value != ""
    raise FakeStashError(f"fake Stash: modifier {modifier} not implemented for string criteria")


class _Root:
    """Query and Mutation resolvers; graphql-core calls them as ``root.<field>(info, **args)``."""

    def __init__(self, stash: FakeStash) -> None:
        self.stash = stash

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def not_implemented(info: GraphQLResolveInfo, **arguments: Any) -> Any:
            if info.operation.operation == OperationType.MUTATION:
                self.stash.record(name, arguments)  # so tests can assert it was never sent
            raise FakeStashError(f"fake Stash does not implement {name}")

        return not_implemented

    # ------------------------------------------------------------------ queries

    def findScene(
        self, _info: GraphQLResolveInfo, id: str | None = None, checksum: str | None = None
    ) -> dict[str, Any] | None:
        if checksum is not None:
            raise FakeStashError("fake Stash does not implement findScene(checksum)")
        scene = self.stash.scenes.get(str(id))
        return self.stash.scene_type(scene) if scene else None

    def findScenes(
        self,
        _info: GraphQLResolveInfo,
        scene_filter: Mapping[str, Any] | None = None,
        filter: Mapping[str, Any] | None = None,
        ids: list[str] | None = None,
        scene_ids: list[int] | None = None,
    ) -> dict[str, Any]:
        scenes = list(self.stash.scenes.values())
        wanted = {str(i) for i in (ids or [])} | {str(i) for i in (scene_ids or [])}
        if wanted:
            scenes = [s for s in scenes if s.id in wanted]
        query = (filter or {}).get("q")
        if query:
            scenes = [s for s in scenes if query.lower() in (s.title or "").lower()]
        scenes = [s for s in scenes if self._scene_matches(s, scene_filter or {})]
        scenes = self._sorted(scenes, filter, {"id": lambda s: _id_order(s.id)})
        return {
            "count": len(scenes),
            "duration": 0.0,
            "filesize": 0.0,
            "scenes": [self.stash.scene_type(s) for s in _page(scenes, filter)],
        }

    def _scene_matches(self, scene: FakeScene, scene_filter: Mapping[str, Any]) -> bool:
        for name, criterion in scene_filter.items():
            if name == "performer_count":
                if not _compare_int(len(scene.performer_ids), criterion):
                    return False
            elif name == "is_missing" and criterion == "performers":
                if scene.performer_ids:
                    return False
            elif name == "performers":
                if not self._matches_multi(scene.performer_ids, criterion):
                    return False
            else:
                raise FakeStashError(f"fake Stash does not implement scene_filter.{name}")
        return True

    @staticmethod
    def _matches_multi(actual: list[str], criterion: Mapping[str, Any]) -> bool:
        values = {str(v) for v in criterion.get("value") or []}
        excluded = {str(v) for v in criterion.get("excludes") or []}
        present = set(actual)
        if present & excluded:
            return False
        modifier = criterion["modifier"]
        if modifier == "INCLUDES":
            return not values or bool(present & values)
        if modifier == "INCLUDES_ALL":
            return values <= present
        if modifier == "EXCLUDES":
            return not present & values
        raise FakeStashError(f"fake Stash: modifier {modifier} not implemented for multi criteria")

    @staticmethod
    def _sorted(
        items: list[Any],
        find_filter: Mapping[str, Any] | None,
        keys: Mapping[str, Callable[[Any], Any]],
    ) -> list[Any]:
        sort = (find_filter or {}).get("sort") or next(iter(keys))
        if sort not in keys:
            raise FakeStashError(f"fake Stash does not implement sort {sort!r}")
        descending = (find_filter or {}).get("direction") == "DESC"
        return sorted(items, key=keys[sort], reverse=descending)

    def findImage(
        self, _info: GraphQLResolveInfo, id: str | None = None, checksum: str | None = None
    ) -> dict[str, Any] | None:
        if checksum is not None:
            raise FakeStashError("fake Stash does not implement findImage(checksum)")
        image = self.stash.images.get(str(id))
        return self.stash.image_type(image) if image else None

    def findImages(
        self,
        _info: GraphQLResolveInfo,
        image_filter: Mapping[str, Any] | None = None,
        filter: Mapping[str, Any] | None = None,
        ids: list[str] | None = None,
        image_ids: list[int] | None = None,
    ) -> dict[str, Any]:
        images = list(self.stash.images.values())
        wanted = {str(i) for i in (ids or [])} | {str(i) for i in (image_ids or [])}
        if wanted:
            images = [image for image in images if image.id in wanted]
        for name, criterion in (image_filter or {}).items():
            if name != "galleries":
                raise FakeStashError(f"fake Stash does not implement image_filter.{name}")
            images = [i for i in images if self._matches_multi(i.gallery_ids, criterion)]
        images = self._sorted(images, filter, {"id": lambda image: _id_order(image.id)})
        return {
            "count": len(images),
            "megapixels": 0.0,
            "filesize": 0.0,
            "images": [self.stash.image_type(image) for image in _page(images, filter)],
        }

    def findGallery(self, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        gallery = self.stash.galleries.get(str(id))
        return self.stash.gallery_type(gallery) if gallery else None

    def findPerformer(self, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        performer = self.stash.performers.get(str(id))
        return self.stash.performer_type(performer) if performer else None

    def findPerformers(
        self,
        _info: GraphQLResolveInfo,
        performer_filter: Mapping[str, Any] | None = None,
        filter: Mapping[str, Any] | None = None,
        ids: list[str] | None = None,
        performer_ids: list[int] | None = None,
    ) -> dict[str, Any]:
        performers = list(self.stash.performers.values())
        wanted = {str(i) for i in (ids or [])} | {str(i) for i in (performer_ids or [])}
        if wanted:
            performers = [p for p in performers if p.id in wanted]
        query = ((filter or {}).get("q") or "").lower()
        if query:
            performers = [
                p for p in performers if any(query in n.lower() for n in [p.name, *p.alias_list])
            ]
        for name, criterion in (performer_filter or {}).items():
            if name == "stash_id_endpoint":
                performers = [p for p in performers if _matches_stash_id(p, criterion)]
            elif name == "name":
                performers = [p for p in performers if _matches_string(p.name, criterion)]
            elif name == "disambiguation":
                performers = [p for p in performers if _matches_string(p.disambiguation, criterion)]
            else:
                raise FakeStashError(f"fake Stash does not implement performer_filter.{name}")
        performers = self._sorted(
            performers,
            filter,
            {"name": lambda p: (p.name.lower(), _id_order(p.id)), "id": lambda p: _id_order(p.id)},
        )
        return {
            "count": len(performers),
            "performers": [self.stash.performer_type(p) for p in _page(performers, filter)],
        }

    def configuration(self, _info: GraphQLResolveInfo) -> dict[str, Any]:
        def plugins(_info: GraphQLResolveInfo, include: list[str] | None = None) -> dict[str, Any]:
            return {
                plugin_id: copy.deepcopy(settings)
                for plugin_id, settings in self.stash.plugins.items()
                if include is None or plugin_id in include
            }

        return {
            "general": {
                "stashBoxes": [
                    {
                        "endpoint": box.endpoint,
                        "api_key": box.api_key,
                        "name": box.name,
                        "max_requests_per_minute": box.max_requests_per_minute,
                    }
                    for box in self.stash.stash_boxes
                ],
            },
            "plugins": plugins,
            "ui": {},
        }

    # ------------------------------------------------------------------ mutations

    def performerCreate(
        self, _info: GraphQLResolveInfo, input: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.stash.record("performerCreate", {"input": input})
        name = (input.get("name") or "").strip()
        if not name:
            raise FakeStashError("name must not be blank")
        disambiguation = input.get("disambiguation") or None
        for other in self.stash.performers.values():
            if other.name.lower() == name.lower() and other.disambiguation == disambiguation:
                raise FakeStashError(f"performer with name '{name}' already exists")
        new_id = str(max((_id_order(i)[0] for i in self.stash.performers), default=0) + 1)
        performer = FakePerformer(
            id=new_id,
            name=name,
            disambiguation=disambiguation,
            alias_list=list(input.get("alias_list") or []),
            stash_ids=[(s["endpoint"], s["stash_id"]) for s in input.get("stash_ids") or []],
            image=input.get("image"),
        )
        self.stash.performers[new_id] = performer
        return self.stash.performer_type(performer)

    def bulkSceneUpdate(
        self, _info: GraphQLResolveInfo, input: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        self.stash.record("bulkSceneUpdate", {"input": input})
        unsupported = set(input) - {
            "clientMutationId",
            "ids",
            "title",
            "organized",
            "performer_ids",
        }
        if unsupported:
            raise FakeStashError(
                f"fake Stash does not implement bulkSceneUpdate {sorted(unsupported)}"
            )
        scenes = [self._scene(scene_id) for scene_id in input.get("ids") or []]
        performer_change = input.get("performer_ids")
        if performer_change is not None:
            for performer_id in performer_change.get("ids") or []:
                if str(performer_id) not in self.stash.performers:
                    raise FakeStashError(f"performer {performer_id} not found")
        for scene in scenes:
            if "title" in input:
                scene.title = input["title"]
            if input.get("organized") is not None:
                scene.organized = input["organized"]
            if performer_change is not None:
                scene.performer_ids = _apply_bulk_ids(scene.performer_ids, performer_change)
        return [self.stash.scene_type(scene) for scene in scenes]

    def bulkImageUpdate(
        self, _info: GraphQLResolveInfo, input: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        self.stash.record("bulkImageUpdate", {"input": input})
        images = [self._item(self.stash.images, "image", i) for i in input.get("ids") or []]
        for image in images:
            image.performer_ids = self._changed_performers(image.performer_ids, input)
        return [self.stash.image_type(image) for image in images]

    def bulkGalleryUpdate(
        self, _info: GraphQLResolveInfo, input: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        self.stash.record("bulkGalleryUpdate", {"input": input})
        galleries = [self._item(self.stash.galleries, "gallery", i) for i in input.get("ids") or []]
        for gallery in galleries:
            gallery.performer_ids = self._changed_performers(gallery.performer_ids, input)
        return [self.stash.gallery_type(gallery) for gallery in galleries]

    def _changed_performers(self, current: list[str], input: Mapping[str, Any]) -> list[str]:
        """An image's or gallery's performers after a bulk update (only performer ids)."""
        unsupported = set(input) - {"clientMutationId", "ids", "performer_ids"}
        if unsupported:
            raise FakeStashError(
                f"fake Stash does not implement bulk updates of {sorted(unsupported)}"
            )
        change = input.get("performer_ids")
        if change is None:
            return current
        for performer_id in change.get("ids") or []:
            if str(performer_id) not in self.stash.performers:
                raise FakeStashError(f"performer {performer_id} not found")
        return _apply_bulk_ids(current, change)

    @staticmethod
    def _item(items: Mapping[str, Any], kind: str, item_id: str) -> Any:
        item = items.get(str(item_id))
        if item is None:
            raise FakeStashError(f"{kind} with id {item_id} not found")
        return item

    def _scene(self, scene_id: str) -> FakeScene:
        scene = self.stash.scenes.get(str(scene_id))
        if scene is None:
            raise FakeStashError(f"scene with id {scene_id} not found")
        return scene


def _apply_bulk_ids(current: list[str], change: Mapping[str, Any]) -> list[str]:
    """BulkUpdateIds: SET replaces the list, ADD appends what is missing, REMOVE drops."""
    ids = [str(i) for i in change.get("ids") or []]
    mode = change["mode"]
    if mode == "SET":
        return list(dict.fromkeys(ids))
    if mode == "ADD":
        return current + [i for i in dict.fromkeys(ids) if i not in current]
    if mode == "REMOVE":
        return [i for i in current if i not in ids]
    raise FakeStashError(f"unknown BulkUpdateIdMode {mode}")
