"""Syncing ThePornDB (FakeThePornDB: real HTTP, Laravel-style pages, partial list rows)."""

from __future__ import annotations

import pytest

from fakes import FakeThePornDB
from performers.models import Performer, StashId
from performers.services import StashIdInput, performer_create
from recognition.models import Face, SourceImage
from scraping.choices import RunStatus
from scraping.sources.theporndb import STASHDB_ENDPOINT, THEPORNDB_ENDPOINT, ThePornDBClient
from scraping.tests.test_sync_support import photos, sync, theporndb_source
from stashsense.http import OutboundClient

pytestmark = pytest.mark.django_db

STASHDB_ID = "5f9f6ac2-3bd6-4a43-9b1c-4a2f7f2c1d11"


def test_an_explicit_stashdb_link_joins_the_existing_identity_with_the_face_photo_first(
    tpdb: FakeThePornDB, faces_dir: object, face_models: None
) -> None:
    existing = performer_create(
        name="Alice", stash_ids=[StashIdInput(STASHDB_ENDPOINT, STASHDB_ID)]
    )
    linked = tpdb.add_performer(
        "Alice Wonder",
        aliases=["Ally"],
        face=photos("Carmen_Electra", 1)[0],
        image=photos("Carmen_Electra", 1, skip=1)[0],
        links=[{"url": f"https://stashdb.org/performers/{STASHDB_ID}", "platform": "StashDB"}],
        extras={"gender": "Female", "birthday": "1972-04-20", "height": "165cm"},
    )
    other = tpdb.add_performer("Bob", image=photos("Bill_Simon", 1)[0])
    source = theporndb_source(tpdb)

    run = sync(source, full=True, max_photos=1)

    assert run.status == RunStatus.DONE, run.last_error
    assert Performer.objects.count() == 2
    alice = Performer.objects.get(pk=existing.pk)
    keys = set(alice.stash_ids.values_list("endpoint", "stash_id"))
    assert keys == {(STASHDB_ENDPOINT, STASHDB_ID), (THEPORNDB_ENDPOINT, linked)}
    assert (alice.birth_date, alice.height_cm, alice.gender) == ("1972-04-20", 165, "FEMALE")
    assert {"Alice", "Alice Wonder", "Ally"} <= {
        alice.name,
        *alice.aliases.values_list("name", flat=True),
    }
    # List rows are partial upstream: every performer was fetched by id for its links.
    assert tpdb.request_count(f"/performers/{linked}") == 1
    assert tpdb.request_count(f"/performers/{other}") == 1
    # One photo each: ThePornDB's pre-cropped face for Alice, the main image for Bob.
    upstream = ThePornDBClient(tpdb.url, tpdb.token, OutboundClient()).get_performer(linked)
    assert SourceImage.objects.get(performer=alice).url == upstream.face_url
    assert Face.objects.filter(performer=alice).count() == 1
    assert run.performers_new == 1 and run.performers_updated == 1


def test_incremental_theporndb_sync_fetches_only_performers_it_does_not_know(
    tpdb: FakeThePornDB,
) -> None:
    known = [tpdb.add_performer(name) for name in ("Ann", "Bea", "Cat")]
    source = theporndb_source(tpdb)
    sync(source, full=True, images=False)
    newcomer = tpdb.add_performer("Dee")
    tpdb.reset_requests()

    run = sync(source, images=False)

    assert (run.performers_new, run.cursor["skipped"]) == (1, 3)
    assert tpdb.request_count(f"/performers/{newcomer}") == 1
    assert all(tpdb.request_count(f"/performers/{pid}") == 0 for pid in known)


def test_a_performer_removed_from_theporndb_is_marked_deleted_by_a_full_sync(
    tpdb: FakeThePornDB,
) -> None:
    ids = [tpdb.add_performer(name) for name in ("Ann", "Bea", "Cat", "Dee")]
    source = theporndb_source(tpdb)
    sync(source, full=True, images=False)
    tpdb.remove_performer(ids[1])

    run = sync(source, full=True, images=False)

    assert run.performers_deleted == 1
    assert StashId.objects.get(stash_id=ids[1]).deleted
    assert StashId.objects.filter(deleted=False).count() == 3


def test_a_wrong_theporndb_token_fails_the_run_as_auth_failed(tpdb: FakeThePornDB) -> None:
    tpdb.add_performer("Ann")
    source = theporndb_source(tpdb)
    source.api_key = "not-the-token"
    source.save()

    run = sync(source, full=True)

    assert run.status == RunStatus.AUTH_FAILED
    assert run.last_error.startswith("bad API key for tpdb")
    assert "not-the-token" not in run.last_error
