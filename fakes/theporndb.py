"""A fake ThePornDB REST API on 127.0.0.1.

    with FakeThePornDB() as tpdb:
        pid = tpdb.add_performer(
            "Alice",
            face=FACES / "Carmen_Electra" / "001.jpg",
            links={"StashDB": "https://stashdb.org/performers/<uuid>"},
        )
        client = ThePornDBClient(tpdb.url, tpdb.token, OutboundClient())

- Auth: `Authorization: Bearer <token>`; missing or wrong → 401 `{"message": "Unauthenticated."}`.
- `GET /performers?page=&per_page=&q=` → `{data, links, meta}` (Laravel paging). Search rows
  are partial upstream; the fake makes that visible by leaving out `posters` and every
  `extras` key but gender/birthday (so `links` too): code must fetch by id for full data.
- `GET /performers/<id>` → `{"data": {...full performer...}}`; unknown id → 404.
- Images (face, image, posters) are served at `<url>/images/<id>` from the files given.
- `rate_limit_next(n)` answers 429 `{"errors":[{"message":"Too Many Attempts."}]}`.
"""

from __future__ import annotations

import math
import mimetypes
import threading
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fakes.server import CannedResponse, FakeHttpServer, RecordedRequest

DEFAULT_TOKEN = "tpdb-test-token"
TOO_MANY_ATTEMPTS = {"errors": [{"message": "Too Many Attempts."}]}
PARTIAL_EXTRAS = ("gender", "birthday")

ImageSource = Path | str | bytes


class FakeThePornDB(FakeHttpServer):
    """ThePornDB's performer endpoints over fixture performers (see the module docs)."""

    def __init__(self, *, token: str = DEFAULT_TOKEN) -> None:
        super().__init__()
        self.token = token
        self._performers: dict[str, dict[str, Any]] = {}
        self._images: dict[str, tuple[bytes, str]] = {}
        self._data_lock = threading.Lock()
        self._next_numeric_id = 1

    def rate_limit_body(self) -> Mapping[str, Any]:
        return TOO_MANY_ATTEMPTS

    # -- fixtures ------------------------------------------------------------------------------

    def add_image(self, source: ImageSource) -> str:
        """Serve a file or bytes at `/images/<id>`; returns the full URL."""
        if isinstance(source, bytes):
            content, content_type = source, "image/jpeg"
        else:
            content = Path(source).read_bytes()
            content_type = mimetypes.guess_type(str(source))[0] or "image/jpeg"
        image_id = str(uuid.uuid4())
        with self._data_lock:
            self._images[image_id] = (content, content_type)
        return f"{self.url}/images/{image_id}"

    def add_performer(
        self,
        name: str,
        *,
        id: str | None = None,
        aliases: Sequence[str] = (),
        face: ImageSource | None = None,
        image: ImageSource | None = None,
        posters: Sequence[ImageSource] = (),
        extras: Mapping[str, Any] | None = None,
        links: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        """Add a performer; returns its UUID. `links` goes to `extras.links` in the shape
        given (a list of `{url, platform}` or a map); `fields` are other top-level keys."""
        performer_id = id or str(uuid.uuid4())
        extras_record: dict[str, Any] = {"gender": "Female", **(extras or {})}
        if links is not None:
            extras_record["links"] = links
        with self._data_lock:
            numeric_id = self._next_numeric_id
            self._next_numeric_id += 1
        image_url = self.add_image(image) if image is not None else None
        record: dict[str, Any] = {
            "id": performer_id,
            "_id": numeric_id,
            "slug": name.lower().replace(" ", "-"),
            "name": name,
            "disambiguation": None,
            "bio": None,
            "aliases": list(aliases),
            "face": self.add_image(face) if face is not None else None,
            "image": image_url,
            "thumbnail": image_url,
            "posters": [
                {"id": n, "url": self.add_image(source), "size": 0, "order": n}
                for n, source in enumerate(posters, start=1)
            ],
            "extras": extras_record,
            **fields,
        }
        with self._data_lock:
            self._performers[performer_id] = record
        return performer_id

    def update_performer(self, performer_id: str, **fields: Any) -> None:
        with self._data_lock:
            self._performers[performer_id].update(fields)

    def remove_performer(self, performer_id: str) -> None:
        with self._data_lock:
            del self._performers[performer_id]

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> CannedResponse:
        if request.path.startswith("/images/"):
            return self._image(request.path.removeprefix("/images/"))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return CannedResponse.json({"message": "Unauthenticated."}, 401)
        if request.path == "/performers" and request.method == "GET":
            return CannedResponse.json(self._page(request))
        if request.path.startswith("/performers/") and request.method == "GET":
            record = self._performers.get(request.path.removeprefix("/performers/"))
            if record is None:
                return CannedResponse.json({"message": "Not Found"}, 404)
            return CannedResponse.json({"data": record})
        return super().handle(request)

    def _page(self, request: RecordedRequest) -> dict[str, Any]:
        page = max(1, int(request.param("page", "1") or 1))
        per_page = max(1, int(request.param("per_page", "25") or 25))
        query = (request.param("q") or "").lower()
        with self._data_lock:
            rows = [
                record
                for record in self._performers.values()
                if not query
                or query in record["name"].lower()
                or any(query in alias.lower() for alias in record["aliases"])
            ]
        total = len(rows)
        last_page = max(1, math.ceil(total / per_page))
        offset = (page - 1) * per_page
        data = [_partial(record) for record in rows[offset : offset + per_page]]
        path = f"{self.url}/performers"

        def page_url(number: int | None) -> str | None:
            if number is None:
                return None
            return f"{path}?{urlencode({'page': number, 'per_page': per_page})}"

        return {
            "data": data,
            "links": {
                "first": page_url(1),
                "last": page_url(last_page),
                "prev": page_url(page - 1 if page > 1 else None),
                "next": page_url(page + 1 if page < last_page else None),
            },
            "meta": {
                "current_page": page,
                "from": offset + 1 if data else None,
                "last_page": last_page,
                "path": path,
                "per_page": per_page,
                "to": offset + len(data) if data else None,
                "total": total,
            },
        }

    def _image(self, image_id: str) -> CannedResponse:
        image = self._images.get(image_id)
        if image is None:
            return CannedResponse(404, b"not found")
        content, content_type = image
        return CannedResponse(200, content, {"Content-Type": content_type})


def _partial(record: Mapping[str, Any]) -> dict[str, Any]:
    """A list/search row: what the real API leaves out of it is left out here too."""
    row = {key: value for key, value in record.items() if key != "posters"}
    extras = record.get("extras") or {}
    row["extras"] = {key: extras[key] for key in PARTIAL_EXTRAS if key in extras}
    return row
