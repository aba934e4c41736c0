"""ThePornDBClient against FakeThePornDB, and StashDB cross-links in both `links` shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import TOO_MANY_ATTEMPTS, CannedResponse, FakeHttpServer, FakeThePornDB
from scraping.sources.theporndb import (
    ThePornDBClient,
    TPDBLink,
    TPDBPerformer,
    parse_links,
    stashdb_ids,
)
from stashsense.http import AuthError, NotFoundError, OutboundClient

FACES = Path(__file__).resolve().parents[2].parent / "shared/faces"
PHOTOS = sorted(FACES.glob("Carmen_Electra/*.jpg"))[:3]
STASHDB_ID = "8f9a4b2e-1c3d-4e5f-a6b7-c8d9e0f1a2b3"
OTHER_STASHDB_ID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def client(tpdb: FakeThePornDB, waits: list[float]) -> ThePornDBClient:
    http = OutboundClient(timeout=(2, 2), backoff_base=0.01, sleep=waits.append)
    return ThePornDBClient(tpdb.url, tpdb.token, http)


def test_list_performers_returns_partial_rows_and_the_page_meta(
    tpdb: FakeThePornDB, client: ThePornDBClient
) -> None:
    for n in range(5):
        tpdb.add_performer(f"Performer {n}", links={"StashDB": "https://stashdb.org/performers/x"})

    first, last = client.list_performers(1, 2), client.list_performers(3, 2)

    assert (first.current_page, first.last_page, first.total, first.per_page) == (1, 3, 5, 2)
    assert [p.name for p in first.data] == ["Performer 0", "Performer 1"]
    assert first.has_more and not last.has_more
    assert [p.name for p in last.data] == ["Performer 4"]
    assert all(p.partial and p.links == () for p in first.data)
    assert tpdb.requests_to("/performers")[0].headers["authorization"] == f"Bearer {tpdb.token}"


def test_list_performers_passes_the_search_text(
    tpdb: FakeThePornDB, client: ThePornDBClient
) -> None:
    tpdb.add_performer("Alice Example", aliases=["Ally"])
    tpdb.add_performer("Bob")

    assert [p.name for p in client.list_performers(q="ally").data] == ["Alice Example"]


def test_get_performer_returns_the_full_record(
    tpdb: FakeThePornDB, client: ThePornDBClient
) -> None:
    performer_id = tpdb.add_performer(
        "Alice",
        aliases=["Ally"],
        face=PHOTOS[0],
        image=PHOTOS[1],
        posters=PHOTOS[1:3],
        extras={
            "gender": "Female",
            "birthday": "1990-05-12",
            "ethnicity": "Caucasian",
            "nationality": "United States",
            "height": "170cm",
            "cupsize": "34C",
            "career_start_year": 2010,
        },
        links=[{"url": f"https://stashdb.org/performers/{STASHDB_ID}", "platform": "stashdb"}],
    )

    alice = client.get_performer(performer_id)

    assert (alice.id, alice.name, alice.aliases, alice.partial) == (
        performer_id,
        "Alice",
        ("Ally",),
        False,
    )
    assert (alice.gender, alice.birthday, alice.ethnicity) == ("Female", "1990-05-12", "Caucasian")
    assert (alice.nationality, alice.height, alice.cup_size) == ("United States", "170cm", "34C")
    assert alice.career_start_year == 2010
    assert alice.face_url is not None and alice.image_url is not None
    assert len(alice.poster_urls) == 2
    assert client.fetch_image(alice.face_url) == PHOTOS[0].read_bytes()
    assert stashdb_ids(alice) == [STASHDB_ID]


def test_an_unknown_performer_is_not_found(client: ThePornDBClient) -> None:
    with pytest.raises(NotFoundError):
        client.get_performer("00000000-0000-0000-0000-000000000000")


def test_a_bad_token_is_an_auth_error_naming_the_host_only(
    tpdb: FakeThePornDB, waits: list[float]
) -> None:
    client = ThePornDBClient(tpdb.url, "wrong-token-789", OutboundClient(sleep=waits.append))

    with pytest.raises(AuthError) as raised:
        client.list_performers()

    assert "bad API key for 127.0.0.1" in str(raised.value)
    assert "wrong-token-789" not in str(raised.value)
    assert waits == []


def test_too_many_attempts_is_waited_out_and_retried(
    tpdb: FakeThePornDB, client: ThePornDBClient, waits: list[float]
) -> None:
    tpdb.add_performer("Alice")
    tpdb.rate_limit_next(2, retry_after=3)

    assert client.list_performers().total == 1
    assert waits == [3, 3]
    assert tpdb.request_count("/performers") == 3


def test_the_fake_answers_429_in_the_upstream_shape(tpdb: FakeThePornDB) -> None:
    tpdb.rate_limit_next(1)
    http = OutboundClient(retries=0)

    with pytest.raises(Exception) as raised:
        http.get(f"{tpdb.url}/performers", headers={"Authorization": f"Bearer {tpdb.token}"})

    response = raised.value.response  # type: ignore[attr-defined]
    assert (response.status, response.json()) == (429, TOO_MANY_ATTEMPTS)


def test_the_token_is_not_sent_with_images_on_other_hosts(client: ThePornDBClient) -> None:
    with FakeHttpServer() as cdn:
        cdn.add_route("GET", "/face.jpg", CannedResponse(200, b"jpeg"))

        assert client.fetch_image(f"{cdn.url}/face.jpg") == b"jpeg"

    assert "authorization" not in cdn.requests[0].headers


# -- StashDB cross-links ---------------------------------------------------------------------


def _performer_with_links(links: object) -> TPDBPerformer:
    return TPDBPerformer(id="p", name="P", links=parse_links(links))


def test_stashdb_ids_come_from_list_shaped_links() -> None:
    performer = _performer_with_links(
        [
            {"url": "https://twitter.com/alice", "platform": "twitter"},
            {"url": f"https://stashdb.org/performers/{STASHDB_ID}", "platform": "stashdb"},
        ]
    )

    assert stashdb_ids(performer) == [STASHDB_ID]


def test_stashdb_ids_come_from_map_shaped_links() -> None:
    performer = _performer_with_links(
        {
            "Twitter": "https://twitter.com/alice",
            "StashDB": f"https://stashdb.org/performers/{STASHDB_ID.upper()}",
            "Other": [f"https://www.stashdb.org/performers/{OTHER_STASHDB_ID}?tab=scenes"],
        }
    )

    assert stashdb_ids(performer) == [STASHDB_ID, OTHER_STASHDB_ID]


def test_a_bare_uuid_counts_only_under_a_stashdb_platform() -> None:
    performer = _performer_with_links(
        [
            {"platform": "StashDB", "url": OTHER_STASHDB_ID},
            {"platform": "fansdb", "url": STASHDB_ID},
        ]
    )

    assert stashdb_ids(performer) == [OTHER_STASHDB_ID]


def test_links_to_other_stashdb_pages_and_duplicates_are_ignored() -> None:
    performer = _performer_with_links(
        [
            f"https://stashdb.org/scenes/{STASHDB_ID}",
            f"https://stashdb.org/performers/{STASHDB_ID}",
            {"url": f"https://stashdb.org/performers/{STASHDB_ID}/edit"},
            {"platform": "stashdb"},
        ]
    )

    assert stashdb_ids(performer) == [STASHDB_ID]


def test_links_keep_their_platform_in_both_shapes() -> None:
    assert parse_links({"Twitter": "https://t.co/a"}) == (TPDBLink("Twitter", "https://t.co/a"),)
    assert parse_links([{"url": "https://t.co/a", "platform": "twitter"}]) == (
        TPDBLink("twitter", "https://t.co/a"),
    )
    assert parse_links(None) == ()
