"""The source protocol is the engine's only seam: a third kind of source, registered here and
nowhere else, syncs through the real engine (performers, photos, faces, removals, sweep).

The third kind is a made-up "people directory" REST API, served by a real HTTP server on
127.0.0.1; its `UpstreamSource` reaches it only through the `OutboundClient` the engine gives
it, as a real source would.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fakes import CannedResponse, FakeHttpServer, RecordedRequest
from performers.choices import SourceKind
from performers.models import Performer, Source, StashId
from recognition.models import Face, SourceImage
from scraping.choices import ItemOutcome, RunStatus
from scraping.models import SyncItem, SyncRun
from scraping.services import sync_run_create
from scraping.sources import normalize
from scraping.sources.base import (
    ListedPage,
    ListedPerformer,
    LookedUp,
    Removal,
    RemovalPage,
    SourceFactory,
    StashKey,
    UpstreamPerformer,
)
from scraping.sources.registry import SOURCES, source_factory
from scraping.tests.test_sync_support import PEOPLE, photos, sync
from stashsense.errors import ApplicationError
from stashsense.exceptions import status_of_error
from stashsense.http import NotFoundError, OutboundClient

pytestmark = pytest.mark.django_db

KIND = "peopledir"  # not a SourceKind: the database does not enforce a field's choices
START = datetime(2024, 1, 1, tzinfo=UTC)


class FakePeopleDirectory(FakeHttpServer):
    """`GET /people?page=&per_page=&order=created|updated` → `{"total", "people"}`;
    `GET /people/<id>` (404 once deleted); `GET /removals?page=&per_page=` → deletions, the
    last first; `GET /photos/<n>` → the photo's bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.people: dict[str, dict[str, Any]] = {}
        self.deletions: list[dict[str, Any]] = []
        self.photos: list[bytes] = []
        self._tick = 0

    def add_person(self, name: str, *, photo: Path, country: str = "") -> str:
        self.photos.append(photo.read_bytes())
        when = self._now()
        person_id = f"p{self._tick}"
        self.people[person_id] = {
            "id": person_id,
            "name": name,
            "country": country,
            "created": when,
            "updated": when,
            "photos": [f"{self.url}/photos/{len(self.photos) - 1}"],
        }
        return person_id

    def delete_person(self, person_id: str) -> None:
        del self.people[person_id]
        self.deletions.insert(0, {"closed": self._now(), "ids": [person_id]})

    def _now(self) -> str:
        self._tick += 1
        return (START + timedelta(minutes=self._tick)).isoformat()

    def handle(self, request: RecordedRequest) -> CannedResponse:
        page = int(request.param("page", "1") or 1)
        per_page = int(request.param("per_page", "10") or 10)
        if request.path == "/people":
            order = request.param("order", "created") or "created"
            rows = sorted(self.people.values(), key=lambda p: p[order], reverse=order == "updated")
            window = rows[(page - 1) * per_page : page * per_page]
            return CannedResponse.json({"total": len(rows), "people": window})
        if request.path.startswith("/people/"):
            person = self.people.get(request.path.removeprefix("/people/"))
            return CannedResponse.json(person) if person else CannedResponse(404, b"gone")
        if request.path == "/removals":
            window = self.deletions[(page - 1) * per_page : page * per_page]
            return CannedResponse.json({"total": len(self.deletions), "removals": window})
        if request.path.startswith("/photos/"):
            number = int(request.path.removeprefix("/photos/"))
            return CannedResponse(200, self.photos[number], {"Content-Type": "image/jpeg"})
        return super().handle(request)


class PeopleDirectorySource:
    """The people directory as an `UpstreamSource`: what a fourth kind's `source.py` holds."""

    incremental_listing = True
    removal_listings: tuple[str, ...] = ("deletions",)
    warnings: Sequence[str] = ()

    def __init__(self, url: str, api_key: str, http: OutboundClient) -> None:
        self.endpoint = url
        self._http = http

    def newest_update(self) -> datetime | None:
        page = self.list_performers(1, 1, pass_number=None)
        return page.rows[0].updated if page.rows else None

    def list_performers(self, page: int, per_page: int, *, pass_number: int | None) -> ListedPage:
        order = "created" if pass_number is not None else "updated"
        body = self._get("/people", page=page, per_page=per_page, order=order)
        rows = [self._upstream(person) for person in body["people"]]
        return ListedPage(
            rows=[ListedPerformer(row.key.stash_id, row.updated, row) for row in rows],
            count=body["total"],
            has_more=page * per_page < body["total"],
        )

    def look_up(self, stash_id: str) -> LookedUp:
        try:
            return LookedUp(performer=self._upstream(self._get(f"/people/{stash_id}")))
        except NotFoundError:
            return LookedUp()

    def merge_target(self, stash_id: str) -> UpstreamPerformer | None:
        return None  # the directory never merges

    def removals(self, listing: str, page: int, per_page: int) -> RemovalPage:
        body = self._get("/removals", page=page, per_page=per_page)
        removals = [
            Removal(datetime.fromisoformat(row["closed"]), tuple(row["ids"]), merged=False)
            for row in body["removals"]
        ]
        return RemovalPage(removals=removals, has_more=page * per_page < body["total"])

    def fetch_photo(self, url: str, *, max_bytes: int) -> bytes:
        return self._http.get(url, max_bytes=max_bytes).content

    def _get(self, path: str, **params: Any) -> Any:
        return self._http.get(f"{self.endpoint}{path}", params=params).json()

    def _upstream(self, person: dict[str, Any]) -> UpstreamPerformer:
        return UpstreamPerformer(
            key=StashKey(self.endpoint, person["id"]),
            name=person["name"],
            fields=normalize.known_fields(country=person["country"]),
            photo_urls=tuple(person["photos"]),
            updated=datetime.fromisoformat(person["updated"]),
        )


PEOPLE_DIRECTORY: SourceFactory = PeopleDirectorySource  # mypy checks it keeps the protocol


@pytest.fixture
def directory(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePeopleDirectory]:
    """The fake upstream, and its kind registered the way a new source registers."""
    monkeypatch.setitem(SOURCES, KIND, PEOPLE_DIRECTORY)
    with FakePeopleDirectory() as fake:
        yield fake


def directory_source(fake: FakePeopleDirectory) -> Source:
    return Source.objects.create(name="people", kind=KIND, url=fake.url, requests_per_minute=60_000)


def test_a_registered_third_kind_syncs_performers_and_their_photos_through_the_engine(
    directory: FakePeopleDirectory, faces_dir: object, face_models: None
) -> None:
    ids = [
        directory.add_person(name, photo=photos(person, 1)[0], country="FR")
        for name, person in (("Ann", PEOPLE[0]), ("Bea", PEOPLE[1]), ("Cat", PEOPLE[2]))
    ]
    source = directory_source(directory)

    run = sync(source, full=True, page_size=2, max_photos=1)

    assert run.status == RunStatus.DONE, run.last_error
    assert (run.performers_new, run.pages, run.photos) == (3, 2, 3)
    keys = set(StashId.objects.values_list("endpoint", "stash_id", "source"))
    assert keys == {(directory.url, person_id, source.pk) for person_id in ids}
    for person_id in ids:
        performer = Performer.objects.get(stash_ids__stash_id=person_id)
        assert performer.country == "FR"
        image = SourceImage.objects.get(performer=performer)
        assert image.url == directory.people[person_id]["photos"][0] and image.source == source
        assert Face.objects.filter(performer=performer).count() == 1
    assert run.watermark == datetime.fromisoformat(directory.people[ids[-1]]["updated"])


def test_a_third_kind_reports_removals_to_incremental_runs_and_answers_the_sweep(
    directory: FakePeopleDirectory,
) -> None:
    ann, bea, cat = (
        directory.add_person(name, photo=photos(PEOPLE[n], 1)[0])
        for n, name in enumerate(("Ann", "Bea", "Cat"))
    )
    source = directory_source(directory)
    sync(source, full=True, images=False)
    directory.delete_person(bea)
    dee = directory.add_person("Dee", photo=photos(PEOPLE[3], 1)[0])

    incremental = sync(source, images=False, safety_margin_seconds=0)

    outcomes = dict(SyncItem.objects.filter(run=incremental).values_list("upstream_id", "outcome"))
    # Listed down to the watermark (Cat, updated at it, is unchanged), then the removals.
    assert outcomes == {
        dee: ItemOutcome.NEW,
        cat: ItemOutcome.UNCHANGED,
        bea: ItemOutcome.DELETED,
    }
    assert StashId.objects.get(stash_id=bea).deleted
    assert directory.request_count("/removals") == 1

    directory.delete_person(cat)
    full = sync(source, full=True, images=False)

    # Full runs read no removals: the sweep looks up the one entry the listing did not show.
    assert full.status == RunStatus.DONE, full.last_error
    assert directory.request_count("/removals") == 1
    assert full.performers_deleted == 1 and StashId.objects.get(stash_id=cat).deleted
    assert directory.request_count(f"/people/{cat}") == 1
    assert set(StashId.objects.filter(deleted=False).values_list("stash_id", flat=True)) == {
        ann,
        dee,
    }


def test_every_source_kind_has_an_implementation() -> None:
    assert {kind.value for kind in SourceKind} <= set(SOURCES)
    assert all(callable(source_factory(kind)) for kind in SourceKind)


def test_a_run_of_a_kind_without_an_implementation_is_refused_before_it_starts() -> None:
    source = Source.objects.create(name="odd", kind="nosuchkind", url="https://odd.example")

    with pytest.raises(ApplicationError) as refused:
        sync_run_create(source=source)

    assert refused.value.code == "source_kind" and status_of_error(refused.value) == 400
    assert not SyncRun.objects.filter(source=source).exists()
