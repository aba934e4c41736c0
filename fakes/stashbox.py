"""A fake stash-box that executes the real schema (`../shared/specs/stash-box`) over fixtures.

    with FakeStashBox() as box:
        alice = box.add_performer("Alice", images=[FACES / "Carmen_Electra" / "001.jpg"])
        bob = box.add_performer("Bob", aliases=["Robert"], birth_date="1990-05")
        box.merge_performers([bob], into=alice)         # bob: deleted, merged_into_id=alice
        client = StashBoxClient(box.endpoint, box.api_key, OutboundClient())

Behaves like the real server where our code depends on it:
- `POST /graphql`, header `ApiKey`: a wrong key gets 401 with an empty body; no key gets
  200 with the GraphQL error "Not authorized" (from the resolvers, as stash-box's directive).
- Parse/validation errors (e.g. "Cannot query field ...") get 422 with an `errors` list, as
  gqlgen answers. `remove_field("URL", "site")` makes the fake an older server without it.
- `queryPerformers` is LIMIT/OFFSET over live performers (deleted and merged ones left out),
  sorted by NAME / CREATED_AT / UPDATED_AT with no id tie-breaker; `unstable_ties=True`
  reshuffles equal keys on every query, as a database may.
- `findPerformer` returns deleted and merged performers too (`merged_into_id` set).
- `delete_performer` and `merge_performers` also record an applied DESTROY / MERGE edit,
  closed at the performer's new `updated` time. `queryEdits` filters them by `target_type`,
  `operation`, `applied` and `status`, sorts by CREATED_AT / UPDATED_AT / CLOSED_AT as
  the server does (COALESCE with `created`, edit id as tie-breaker) and pages LIMIT/OFFSET.
- Images are served at `<url>/images/<uuid>` from the files or bytes given. `?size=N` works
  as on stash-box: a picture larger than N pixels on its long side is scaled down to N and
  re-encoded (JPEG, made once per image and size); smaller ones, `?size=full` and bytes that
  are not a picture come back as given.
- Timestamps come from a fake clock (2024-01-01 plus one second per change) unless given.

Faults, counting and request logs come from `FakeHttpServer` (`fail_next`, `rate_limit_next`,
`slow_next`, `truncate_next`, `request_count("/graphql")`, `request_count("/images/")`).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import mimetypes
import os
import random
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    build_ast_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.language import (
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    InputValueDefinitionNode,
    ObjectTypeDefinitionNode,
    Visitor,
    visit,
)

from fakes.server import CannedResponse, FakeHttpServer, RecordedRequest

DEFAULT_API_KEY = "stashbox-test-key"
NOT_AUTHORIZED = "Not authorized"
FAKE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
REPO_ROOT = Path(__file__).resolve().parents[1]

ImageSource = Path | str | bytes


def stashbox_schema_dir() -> Path:
    """`$STASHSENSE_STASHBOX_SCHEMA_DIR`, else `<repo>/../shared/specs/stash-box`."""
    configured = os.environ.get("STASHSENSE_STASHBOX_SCHEMA_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared/specs/stash-box"


def stashbox_schema_files(schema_dir: Path | None = None) -> list[Path]:
    folder = schema_dir or stashbox_schema_dir()
    files = sorted(folder.glob("**/*.graphql"))
    if not files:
        raise FileNotFoundError(f"no stash-box schema (*.graphql) under {folder}")
    return files


@cache
def _schema_document(schema_dir: Path) -> DocumentNode:
    sdl = "\n".join(path.read_text("utf-8") for path in stashbox_schema_files(schema_dir))
    return visit(parse(sdl), _GoBooleanDefaults())


class _GoBooleanDefaults(Visitor):
    """stash-box writes `Boolean = False`; gqlgen accepts it, graphql-core 3.3 wants `false`.

    The files stay verbatim; only the parsed defaults are read as the booleans they mean.
    """

    def enter_input_value_definition(
        self, node: InputValueDefinitionNode, *_args: Any
    ) -> InputValueDefinitionNode | None:
        default = node.default_value
        if isinstance(default, EnumValueNode) and default.value in ("True", "False"):
            return dataclasses.replace(
                node, default_value=BooleanValueNode(value=default.value == "True")
            )
        return None


@cache
def build_stashbox_schema(
    schema_dir: Path | None = None,
    removed_fields: frozenset[tuple[str, str]] = frozenset(),
) -> GraphQLSchema:
    """The stash-box schema, optionally without some `(type, field)` pairs (an older server)."""
    document = _schema_document(schema_dir or stashbox_schema_dir())
    if removed_fields:
        document = _without_fields(document, removed_fields)
    schema = build_ast_schema(document)
    time_type = schema.type_map["Time"]
    assert isinstance(time_type, GraphQLScalarType)
    time_type.coerce_output_value = _serialize_time
    return schema


def _without_fields(document: DocumentNode, removed: frozenset[tuple[str, str]]) -> DocumentNode:
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode):
            kept = tuple(
                f
                for f in definition.fields or ()
                if (definition.name.value, f.name.value) not in removed
            )
            definition = dataclasses.replace(definition, fields=kept)
        definitions.append(definition)
    return DocumentNode(definitions=tuple(definitions))


def _serialize_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


@dataclass(frozen=True)
class FakeImage:
    """An image the fake serves at `/images/<id>`."""

    id: str
    content: bytes
    content_type: str
    width: int
    height: int


class FakeStashBox(FakeHttpServer):
    """A stash-box endpoint on 127.0.0.1 holding fixture performers (see the module docs)."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        schema_dir: Path | None = None,
        unstable_ties: bool = False,
        seed: int = 0,
    ) -> None:
        self._schema_dir = schema_dir or stashbox_schema_dir()
        build_stashbox_schema(self._schema_dir)  # fail early (before binding) without the specs
        super().__init__()
        self.api_key = api_key
        self.unstable_ties = unstable_ties
        self._removed_fields: set[tuple[str, str]] = set()
        self._performers: dict[str, dict[str, Any]] = {}
        self._edits: list[dict[str, Any]] = []
        self._images: dict[str, FakeImage] = {}
        self._resized: dict[tuple[str, int], bytes] = {}
        self._data_lock = threading.RLock()
        self._ticks = 0
        self._random = random.Random(seed)

    @property
    def endpoint(self) -> str:
        """The GraphQL URL as Stash stores it, e.g. `http://127.0.0.1:41234/graphql`."""
        return f"{self.url}/graphql"

    @property
    def schema(self) -> GraphQLSchema:
        return build_stashbox_schema(self._schema_dir, frozenset(self._removed_fields))

    def remove_field(self, type_name: str, field_name: str) -> None:
        """Act as an older server without `type_name.field_name` ("Cannot query field")."""
        self._removed_fields.add((type_name, field_name))

    def restore_fields(self) -> None:
        self._removed_fields.clear()

    # -- fixtures ------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The fake clock: one second later on every call."""
        with self._data_lock:
            self._ticks += 1
            return FAKE_EPOCH + timedelta(seconds=self._ticks)

    def add_image(
        self, source: ImageSource, *, width: int | None = None, height: int | None = None
    ) -> str:
        """Serve a photo (path or bytes) at `/images/<id>`; returns its id."""
        content = source if isinstance(source, bytes) else Path(source).read_bytes()
        measured_width, measured_height, content_type = _measure_image(content, source)
        image = FakeImage(
            id=str(uuid.uuid4()),
            content=content,
            content_type=content_type,
            width=width or measured_width,
            height=height or measured_height,
        )
        with self._data_lock:
            self._images[image.id] = image
        return image.id

    def image_url(self, image_id: str) -> str:
        return f"{self.url}/images/{image_id}"

    def remove_image(self, image_id: str) -> None:
        """Stop serving an image (it stays listed on its performers): `/images/<id>` → 404."""
        with self._data_lock:
            del self._images[image_id]

    def image_ids(self, performer_id: str) -> list[str]:
        with self._data_lock:
            return list(self._record(performer_id)["image_ids"])

    def add_performer(
        self,
        name: str,
        *,
        id: str | None = None,
        aliases: Sequence[str] = (),
        images: Sequence[ImageSource] = (),
        urls: Sequence[str | tuple[str, str]] = (),
        created: datetime | None = None,
        updated: datetime | None = None,
        **fields: Any,
    ) -> str:
        """Add a live performer; returns its id. `fields` are other `Performer` fields
        (`gender="FEMALE"`, `birth_date="1990-05"`, `tattoos=[{"location": "arm"}]`, ...).
        `urls` are plain URLs or `(url, site name)` pairs."""
        performer_id = id or str(uuid.uuid4())
        created = created or self.now()
        record: dict[str, Any] = {
            "id": performer_id,
            "name": name,
            "disambiguation": None,
            "aliases": list(aliases),
            "urls": [_url_record(item) for item in urls],
            "image_ids": [self.add_image(source) for source in images],
            "deleted": False,
            "merged_ids": [],
            "merged_into_id": None,
            "created": created,
            "updated": updated or created,
        }
        record.update(self._checked_fields(fields))
        with self._data_lock:
            if performer_id in self._performers:
                raise ValueError(f"performer {performer_id} exists already")
            self._performers[performer_id] = record
        return performer_id

    def add_generated_performers(
        self,
        count: int,
        *,
        name_prefix: str = "Performer",
        created: datetime | None = None,
        updated: datetime | None = None,
    ) -> list[str]:
        """`count` plain performers ("Performer 0001", ...); pass `updated` to make them tie."""
        return [
            self.add_performer(f"{name_prefix} {n:04d}", created=created, updated=updated)
            for n in range(1, count + 1)
        ]

    def update_performer(
        self,
        performer_id: str,
        *,
        updated: datetime | None = None,
        images: Sequence[ImageSource] | None = None,
        urls: Sequence[str | tuple[str, str]] | None = None,
        **fields: Any,
    ) -> None:
        """Change fields (images/urls replace the lists); `updated` moves on the fake clock."""
        changes = self._checked_fields(fields)
        if images is not None:
            changes["image_ids"] = [self.add_image(source) for source in images]
        if urls is not None:
            changes["urls"] = [_url_record(item) for item in urls]
        with self._data_lock:
            record = self._record(performer_id)
            record.update(changes)
            record["updated"] = updated or self.now()

    def delete_performer(self, performer_id: str, *, updated: datetime | None = None) -> None:
        """Delete as an applied DESTROY edit would, closed at `updated` (default: now)."""
        with self._data_lock:
            closed = updated or self.now()
            self.update_performer(performer_id, updated=closed, deleted=True)
            self._record_edit("DESTROY", target_id=performer_id, closed=closed)

    def merge_performers(
        self, source_ids: Iterable[str], *, into: str, updated: datetime | None = None
    ) -> None:
        """Merge sources into `into`: sources become deleted with `merged_into_id=into`.
        One applied MERGE edit records it, closed at `updated` (default: now)."""
        with self._data_lock:
            closed = updated or self.now()
            target = self._record(into)
            sources = list(source_ids)
            for source_id in sources:
                self.update_performer(source_id, updated=closed, deleted=True, merged_into_id=into)
                target["merged_ids"].append(source_id)
            target["updated"] = closed
            self._record_edit("MERGE", target_id=into, merge_source_ids=sources, closed=closed)

    def performer(self, performer_id: str) -> dict[str, Any]:
        """The performer as the GraphQL API renders it (a copy)."""
        with self._data_lock:
            return self._render(self._record(performer_id))

    def performer_ids(self, *, include_deleted: bool = False) -> list[str]:
        with self._data_lock:
            return [
                pid
                for pid, record in self._performers.items()
                if include_deleted or not record["deleted"]
            ]

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> CannedResponse:
        if request.path == "/graphql" and request.method == "POST":
            return self._graphql(request)
        if request.path.startswith("/images/") and request.method in ("GET", "HEAD"):
            return self._image(request.path.removeprefix("/images/"), request.param("size"))
        return super().handle(request)

    def _graphql(self, request: RecordedRequest) -> CannedResponse:
        key = request.headers.get("apikey")
        if key is not None and key != self.api_key:
            return CannedResponse(401)
        try:
            payload = json.loads(request.body)
            query = payload["query"]
        except (ValueError, KeyError, TypeError):
            return CannedResponse.json({"errors": [{"message": "bad request body"}]}, 400)
        schema = self.schema
        try:
            document = parse(query)
        except GraphQLError as error:
            return _errors_response([error], 422)
        problems = validate(schema, document)
        if problems:
            return _errors_response(problems, 422)
        result = execute_sync(
            schema,
            document,
            root_value=_Root(self),
            context_value={"authorized": key is not None},
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        return CannedResponse.json(body)

    def _image(self, image_id: str, size: str | None) -> CannedResponse:
        image = self._images.get(image_id)
        if image is None:
            return CannedResponse(404, b"image not found")
        limit = int(size) if size is not None and size.isdigit() and int(size) > 0 else None
        if limit is None or max(image.width, image.height) <= limit or not image.width:
            return CannedResponse(200, image.content, {"Content-Type": image.content_type})
        with self._data_lock:
            resized = self._resized.get((image_id, limit))
        if resized is None:
            resized = _scaled_jpeg(image.content, limit)
            with self._data_lock:
                self._resized[(image_id, limit)] = resized
        return CannedResponse(200, resized, {"Content-Type": "image/jpeg"})

    # -- queries -------------------------------------------------------------------------------

    def query_performers(self, query_input: Mapping[str, Any]) -> dict[str, Any]:
        """`queryPerformers` semantics: filter live rows, sort without tie-breaker, page."""
        with self._data_lock:
            rows = [r for r in self._performers.values() if not r["deleted"]]
            rows = [r for r in rows if _matches_filters(r, query_input)]
            if self.unstable_ties:
                self._random.shuffle(rows)
            sort_key = _SORT_KEYS.get(
                query_input.get("sort", "CREATED_AT"), _SORT_KEYS["CREATED_AT"]
            )
            rows.sort(key=sort_key, reverse=query_input.get("direction", "DESC") == "DESC")
            per_page = max(0, int(query_input.get("per_page", 25)))
            offset = (max(1, int(query_input.get("page", 1))) - 1) * per_page
            page = rows[offset : offset + per_page]
            return {"count": len(rows), "performers": [self._render(r) for r in page]}

    def find_performer(self, performer_id: str) -> dict[str, Any] | None:
        with self._data_lock:
            record = self._performers.get(performer_id)
            return self._render(record) if record else None

    def query_edits(self, query_input: Mapping[str, Any]) -> dict[str, Any]:
        """`queryEdits` semantics for the filters we send: filter, sort with id tie-breaker, page."""
        with self._data_lock:
            rows = [e for e in self._edits if _edit_matches(e, query_input)]
            sort_key = _EDIT_SORT_KEYS[query_input.get("sort", "CREATED_AT")]
            rows.sort(key=sort_key, reverse=query_input.get("direction", "DESC") == "DESC")
            per_page = max(0, int(query_input.get("per_page", 25)))
            offset = (max(1, int(query_input.get("page", 1))) - 1) * per_page
            page = rows[offset : offset + per_page]
            return {"count": len(rows), "edits": [self._render_edit(e) for e in page]}

    # -- internals -----------------------------------------------------------------------------

    def _record(self, performer_id: str) -> dict[str, Any]:
        try:
            return self._performers[performer_id]
        except KeyError:
            raise KeyError(f"no performer {performer_id} in the fake") from None

    def _checked_fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        known = build_stashbox_schema(self._schema_dir).type_map["Performer"].fields  # type: ignore[attr-defined]
        unknown = set(fields) - set(known)
        if unknown:
            raise ValueError(f"not Performer fields: {sorted(unknown)}")
        return dict(fields)

    def _record_edit(
        self,
        operation: str,
        *,
        target_id: str,
        closed: datetime,
        merge_source_ids: Sequence[str] = (),
    ) -> None:
        """An applied performer edit; its target and sources render as they are when asked."""
        self._edits.append(
            {
                "id": str(uuid.uuid4()),
                "operation": operation,
                "target_type": "PERFORMER",
                "target_id": target_id,
                "merge_source_ids": list(merge_source_ids),
                "applied": True,
                "status": "ACCEPTED",
                "created": closed,
                "updated": None,
                "closed": closed,
            }
        )

    def _render_edit(self, edit: Mapping[str, Any]) -> dict[str, Any]:
        rendered = {key: copy.deepcopy(value) for key, value in edit.items()}
        target_id = rendered.pop("target_id")
        source_ids = rendered.pop("merge_source_ids")
        rendered["target"] = self._render_target(target_id)
        rendered["merge_sources"] = [self._render_target(source_id) for source_id in source_ids]
        for key, default in _EDIT_RENDER_DEFAULTS.items():
            rendered.setdefault(key, copy.deepcopy(default))
        rendered["destructive"] = edit["operation"] in ("DESTROY", "MERGE")
        return rendered

    def _render_target(self, performer_id: str) -> dict[str, Any]:
        # `EditTarget` is a union: graphql-core picks the member type by `__typename`.
        return {"__typename": "Performer", **self._render(self._record(performer_id))}

    def _render(self, record: Mapping[str, Any]) -> dict[str, Any]:
        rendered = {key: copy.deepcopy(value) for key, value in record.items()}
        image_ids = rendered.pop("image_ids")
        rendered["images"] = [self._image_view(image_id) for image_id in image_ids]
        for key, default in _RENDER_DEFAULTS.items():
            rendered.setdefault(key, copy.deepcopy(default))
        return rendered

    def _image_view(self, image_id: str) -> dict[str, Any]:
        image = self._images.get(image_id)
        return {
            "id": image_id,
            "url": self.image_url(image_id),
            "width": image.width if image else 0,
            "height": image.height if image else 0,
        }


class _Root:
    """Root resolvers; graphql-core calls `root.<field>(info, **args)`."""

    def __init__(self, fake: FakeStashBox) -> None:
        self._fake = fake

    def findPerformer(self, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        _require_key(info)
        return self._fake.find_performer(id)

    def queryPerformers(self, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
        _require_key(info)
        return self._fake.query_performers(input)

    def queryEdits(self, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
        _require_key(info)
        return self._fake.query_edits(input)


def _require_key(info: GraphQLResolveInfo) -> None:
    if not info.context["authorized"]:
        raise GraphQLError(NOT_AUTHORIZED)


def _errors_response(errors: Sequence[GraphQLError], status: int) -> CannedResponse:
    return CannedResponse.json(
        {"errors": [error.formatted for error in errors], "data": None}, status
    )


def _url_record(item: str | tuple[str, str]) -> dict[str, Any]:
    url, site_name = (item, "Website") if isinstance(item, str) else item
    site_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"site:{site_name}"))
    return {
        "url": url,
        "type": site_name,
        "site": {
            "id": site_id,
            "name": site_name,
            "valid_types": ["PERFORMER"],
            "icon": "",
            "highlighted": False,
            "created": FAKE_EPOCH,
            "updated": FAKE_EPOCH,
        },
    }


def _scaled_jpeg(content: bytes, limit: int) -> bytes:
    """The picture with its long side scaled down to `limit`, as a JPEG."""
    from PIL import Image

    with Image.open(io.BytesIO(content)) as picture:
        picture.thumbnail((limit, limit), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def _measure_image(content: bytes, source: ImageSource) -> tuple[int, int, str]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(content)) as picture:
            width, height = picture.size
            content_type = Image.MIME.get(picture.format or "", "application/octet-stream")
            return width, height, content_type
    except Exception:  # not a picture Pillow knows: serve it as given
        guessed = mimetypes.guess_type(str(source))[0] if not isinstance(source, bytes) else None
        return 0, 0, guessed or "application/octet-stream"


def _matches_filters(record: Mapping[str, Any], query_input: Mapping[str, Any]) -> bool:
    names = query_input.get("names") or query_input.get("name")
    alias = query_input.get("alias")
    url = query_input.get("url")
    searched = [record["name"], record.get("disambiguation") or ""]
    if names and not any(names.lower() in text.lower() for text in searched):
        return False
    if alias and not any(alias.lower() in a.lower() for a in record["aliases"]):
        return False
    return not url or any(url.lower() in u["url"].lower() for u in record["urls"])


_SORT_KEYS: dict[str, Any] = {
    "NAME": lambda record: record["name"],
    "CREATED_AT": lambda record: record["created"],
    "UPDATED_AT": lambda record: record["updated"],
}


def _edit_matches(edit: Mapping[str, Any], query_input: Mapping[str, Any]) -> bool:
    filters = ("target_type", "operation", "applied", "status")
    return all(query_input.get(name) is None or edit[name] == query_input[name] for name in filters)


def _edit_time(edit: Mapping[str, Any], column: str) -> tuple[datetime, str]:
    # stash-box: ORDER BY COALESCE(<column>, created_at) <dir>, id <dir>.
    return (edit[column] or edit["created"], edit["id"])


_EDIT_SORT_KEYS: dict[str, Any] = {
    "CREATED_AT": lambda edit: _edit_time(edit, "created"),
    "UPDATED_AT": lambda edit: _edit_time(edit, "updated"),
    "CLOSED_AT": lambda edit: _edit_time(edit, "closed"),
}

_EDIT_RENDER_DEFAULTS: dict[str, Any] = {
    "user": None,
    "bot": False,
    "details": None,
    "old_details": None,
    "options": None,
    "comments": [],
    "votes": [],
    "vote_count": 0,
    "update_count": 0,
    "updatable": False,
    "expires": None,
}

_RENDER_DEFAULTS: dict[str, Any] = {
    "gender": None,
    "tattoos": [],
    "piercings": [],
    "edits": [],
    "scene_count": 0,
    "scenes": [],
    "studios": [],
    "is_favorite": False,
    "measurements": {},
}
