"""StashBoxClient against FakeStashBox, which executes the real stash-box schema."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakes import CannedResponse, FakeHttpServer, FakeStashBox, stashbox_schema_dir
from scraping.sources.stashbox import (
    BodyModification,
    EditsUnavailable,
    StashBoxClient,
    StashBoxImage,
    StashBoxUrl,
)
from stashsense.http import AuthError, GraphQLQueryError, OutboundClient, TransientError

FACES = Path(__file__).resolve().parents[2].parent / "shared/faces"
PHOTOS = sorted(FACES.glob("Carmen_Electra/*.jpg"))[:2]

pytestmark = pytest.mark.skipif(
    not stashbox_schema_dir().is_dir(), reason="stash-box schema specs not found"
)


@pytest.fixture
def http(waits: list[float]) -> OutboundClient:
    return OutboundClient(
        timeout=(2, 2), backoff_base=0.01, backoff_max=5, sleep=waits.append, jitter=lambda: 1.0
    )


@pytest.fixture
def client(box: FakeStashBox, http: OutboundClient) -> StashBoxClient:
    return StashBoxClient(box.endpoint, box.api_key, http)


def _operation_names(box: FakeStashBox) -> list[str]:
    return [json.loads(r.body)["operationName"] for r in box.requests_to("/graphql")]


def test_query_performers_pages_by_limit_offset_and_leaves_out_deleted_and_merged(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    live = box.add_generated_performers(7)
    gone = box.add_performer("Gone")
    box.delete_performer(gone)
    merged = box.add_performer("Merged")
    box.merge_performers([merged], into=live[0])

    pages = [client.query_performers(page, 3, sort="NAME", direction="ASC") for page in (1, 2, 3)]

    assert [page.count for page in pages] == [7, 7, 7]
    assert [len(page.performers) for page in pages] == [3, 3, 1]
    assert [page.has_more for page in pages] == [True, True, False]
    names = [p.name for page in pages for p in page.performers]
    assert names == sorted(names)
    assert {p.id for page in pages for p in page.performers} == set(live)


def test_query_performers_sends_page_sort_and_direction(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    client.query_performers(2, 50, sort="CREATED_AT", direction="ASC")

    sent = box.requests_to("/graphql")[0]
    assert sent.json()["variables"] == {
        "input": {"page": 2, "per_page": 50, "sort": "CREATED_AT", "direction": "ASC"}
    }
    assert sent.headers["apikey"] == box.api_key


def test_newest_updates_come_first_by_default(box: FakeStashBox, client: StashBoxClient) -> None:
    older, newer = box.add_generated_performers(2)
    box.update_performer(older, country="US")

    assert [p.id for p in client.query_performers().performers] == [older, newer]


def test_a_performer_is_parsed_into_typed_fields(box: FakeStashBox, client: StashBoxClient) -> None:
    performer_id = box.add_performer(
        "Alice",
        aliases=["Ally", "A."],
        images=PHOTOS,
        urls=[("https://twitter.com/alice", "Twitter"), "https://alice.example"],
        gender="FEMALE",
        birth_date="1990-05",
        country="US",
        height=170,
        career_start_year=2010,
        tattoos=[{"location": "left arm", "description": "rose"}],
        piercings=[{"location": "navel"}],
        created=datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated=datetime(2023, 6, 7, 8, 9, 10, tzinfo=UTC),
    )

    alice = client.find_performer(performer_id)

    assert alice is not None
    assert (alice.name, alice.aliases, alice.gender) == ("Alice", ("Ally", "A."), "FEMALE")
    assert (alice.birth_date, alice.country, alice.height) == ("1990-05", "US", 170)
    assert alice.career_start_year == 2010
    assert alice.urls == (
        StashBoxUrl("https://twitter.com/alice", "Twitter"),
        StashBoxUrl("https://alice.example", "Website"),
    )
    assert alice.tattoos == (BodyModification("left arm", "rose"),)
    assert alice.piercings == (BodyModification("navel", None),)
    assert len(alice.images) == 2
    assert alice.images[0].url == f"{box.url}/images/{alice.images[0].id}"
    assert alice.images[0].width > 0 and alice.images[0].height > 0
    assert alice.created == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert alice.updated == datetime(2023, 6, 7, 8, 9, 10, tzinfo=UTC)
    assert not alice.deleted and not alice.is_merged


def test_find_performer_returns_deleted_and_merged_performers(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    target = box.add_performer("Target")
    source = box.add_performer("Source")
    removed = box.add_performer("Removed")
    box.merge_performers([source], into=target)
    box.delete_performer(removed)

    merged = client.find_performer(source)
    deleted = client.find_performer(removed)
    survivor = client.find_performer(target)

    assert merged is not None and merged.deleted and merged.merged_into_id == target
    assert deleted is not None and deleted.deleted and deleted.merged_into_id is None
    assert survivor is not None and survivor.merged_ids == (source,)


def test_find_performer_answers_none_for_an_unknown_id(client: StashBoxClient) -> None:
    assert client.find_performer("00000000-0000-0000-0000-000000000000") is None


def test_follow_merges_walks_a_chain_to_the_live_performer(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    first, second, third = box.add_generated_performers(3)
    box.merge_performers([first], into=second)
    box.merge_performers([second], into=third)

    final = client.follow_merges(first)

    assert final is not None and final.id == third and not final.deleted


def test_performer_removals_pages_applied_edits_of_one_operation_last_closed_first(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    gone_early, gone_late, merged, target, _kept = box.add_generated_performers(5)
    box.delete_performer(gone_early)
    box.merge_performers([merged], into=target)
    box.delete_performer(gone_late)

    first = client.performer_removals("DESTROY", 1, 1)
    second = client.performer_removals("DESTROY", 2, 1)
    merges = client.performer_removals("MERGE")

    assert (first.count, first.has_more, second.has_more) == (2, True, False)
    assert [r.target_id for r in first.removals + second.removals] == [gone_late, gone_early]
    latest = first.removals[0]
    assert latest.operation == "DESTROY" and latest.target_deleted
    assert latest.merge_source_ids == () and latest.target_merged_into_id is None
    assert latest.closed == box.performer(gone_late)["updated"]
    earlier = second.removals[0].closed
    assert latest.closed is not None and earlier is not None and earlier < latest.closed
    [merge] = merges.removals
    assert (merge.operation, merge.target_id, merge.merge_source_ids) == (
        "MERGE",
        target,
        (merged,),
    )
    assert not merge.target_deleted
    assert box.requests_to("/graphql")[0].json()["variables"]["input"] == {
        "target_type": "PERFORMER",
        "operation": "DESTROY",
        "applied": True,
        "sort": "CLOSED_AT",
        "direction": "DESC",
        "page": 1,
        "per_page": 1,
    }
    assert set(_operation_names(box)) == {"PerformerRemovals"}


def test_a_server_without_query_edits_makes_removals_unavailable_not_a_field_fallback(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    box.remove_field("Query", "queryEdits")

    with pytest.raises(EditsUnavailable, match=r"does not list edits .*'queryEdits'.*full syncs"):
        client.performer_removals("DESTROY")

    assert not client.uses_minimal_fields and client.warnings == []


def test_a_graphql_refusal_of_edits_is_unavailable_but_a_rejected_key_stays_an_auth_error(
    box: FakeStashBox, http: OutboundClient
) -> None:
    without_key = StashBoxClient(box.endpoint, "", http)  # the fake answers "Not authorized"
    wrong_key = StashBoxClient(box.endpoint, "wrong-key-789", http)  # the fake answers 401

    with pytest.raises(EditsUnavailable, match="not authorized"):
        without_key.performer_removals("MERGE")
    with pytest.raises(AuthError, match="bad API key"):
        wrong_key.performer_removals("MERGE")


def test_an_older_server_without_a_field_makes_the_client_fall_back_once_and_warn(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    box.add_performer("Alice", urls=[("https://twitter.com/alice", "Twitter")])
    box.remove_field("URL", "site")

    first = client.query_performers()
    client.find_performer(first.performers[0].id)

    assert first.performers[0].urls == (StashBoxUrl("https://twitter.com/alice", "Twitter"),)
    assert client.uses_minimal_fields
    assert len(client.warnings) == 1
    assert "Cannot query field" in client.warnings[0]
    assert _operation_names(box) == [
        "QueryPerformers",
        "QueryPerformersMinimal",
        "FindPerformerMinimal",
    ]


def test_other_graphql_errors_do_not_trigger_the_fallback(
    http: OutboundClient,
) -> None:
    with FakeHttpServer() as server:
        server.add_route(
            "POST", "/graphql", CannedResponse.json({"errors": [{"message": "boom"}], "data": None})
        )
        client = StashBoxClient(f"{server.url}/graphql", "key", http)

        with pytest.raises(GraphQLQueryError, match="boom"):
            client.query_performers()

    assert client.warnings == [] and not client.uses_minimal_fields


def test_a_wrong_api_key_is_an_auth_error_and_not_retried(
    box: FakeStashBox, http: OutboundClient
) -> None:
    client = StashBoxClient(box.endpoint, "wrong-key-456", http)

    with pytest.raises(AuthError) as raised:
        client.query_performers()

    assert "bad API key for 127.0.0.1" in str(raised.value)
    assert "wrong-key-456" not in str(raised.value)
    assert box.request_count("/graphql") == 1


def test_a_missing_api_key_is_an_auth_error_from_not_authorized(
    box: FakeStashBox, http: OutboundClient
) -> None:
    client = StashBoxClient(box.endpoint, "", http)

    with pytest.raises(AuthError, match=r"not authorized by 127\.0\.0\.1"):
        client.find_performer("00000000-0000-0000-0000-000000000000")

    assert "apikey" not in box.requests[0].headers


def test_a_burst_of_429s_is_waited_out_as_retry_after_asks(
    box: FakeStashBox, client: StashBoxClient, waits: list[float]
) -> None:
    box.add_generated_performers(2)
    box.rate_limit_next(3, retry_after=2, path="/graphql")

    assert client.query_performers().count == 2
    assert waits == [2, 2, 2]
    assert box.request_count("/graphql") == 4


def test_server_errors_and_truncated_answers_are_retried(
    box: FakeStashBox, client: StashBoxClient, waits: list[float]
) -> None:
    box.add_generated_performers(2)
    box.fail_next(1, status=500)
    box.truncate_next(1)

    assert client.query_performers().count == 2
    assert len(waits) == 2
    assert box.request_count("/graphql") == 3


def test_a_server_that_keeps_failing_surfaces_a_transient_error(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    box.fail_next(10, status=503)

    with pytest.raises(TransientError):
        client.query_performers()
    assert box.request_count("/graphql") == 5  # first try + 4 retries


def test_image_url_asks_the_server_for_a_size(client: StashBoxClient) -> None:
    url = "https://stashdb.org/images/abc"

    assert client.image_url(url) == f"{url}?size=600"
    assert client.image_url(f"{url}?size=300", "full") == f"{url}?size=full"
    assert client.image_url(url, None) == url


def test_iter_images_downloads_each_image_at_the_size_and_skips_missing_ones(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    performer_id = box.add_performer("Alice", images=PHOTOS)
    box.remove_image(box.image_ids(performer_id)[1])
    alice = client.find_performer(performer_id)
    assert alice is not None

    downloads = list(client.iter_images(alice, 300))

    assert [d.image.id for d in downloads] == [alice.images[0].id]
    assert downloads[0].content == PHOTOS[0].read_bytes()
    assert downloads[0].content_type == "image/jpeg"
    assert [r.param("size") for r in box.requests_to("/images/")] == ["300", "300"]


def test_the_fake_scales_large_images_down_to_the_size_asked_for_as_stash_box_does(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    from PIL import Image

    large = FACES / "biden/001.jpg"  # 970x2204
    performer_id = box.add_performer("Joe", images=[large, PHOTOS[0]])
    joe = client.find_performer(performer_id)
    assert joe is not None

    scaled, small = list(client.iter_images(joe, 600))
    full = next(client.iter_images(joe, "full"))

    with Image.open(io.BytesIO(scaled.content)) as picture:
        assert picture.size == (264, 600) and picture.format == "JPEG"
    assert small.content == PHOTOS[0].read_bytes()  # 150x150: nothing to scale
    assert full.content == large.read_bytes()


def test_the_api_key_goes_only_to_the_endpoint_host(
    box: FakeStashBox, client: StashBoxClient
) -> None:
    with FakeHttpServer() as cdn:
        cdn.add_route("GET", "/images/x", CannedResponse(200, b"jpeg"))
        image = StashBoxImage("x", f"{cdn.url}/images/x", 10, 10)

        assert client.fetch_image(image).content == b"jpeg"

    assert "apikey" not in cdn.requests[0].headers


# -- the fake itself: behaviours other tests rely on --------------------------------------------


def test_the_fake_can_reshuffle_rows_with_equal_timestamps_between_queries(
    http: OutboundClient,
) -> None:
    same_time = datetime(2024, 5, 1, tzinfo=UTC)
    with FakeStashBox(unstable_ties=True, seed=7) as box:
        box.add_generated_performers(30, updated=same_time)
        client = StashBoxClient(box.endpoint, box.api_key, http)

        orders = [[p.id for p in client.query_performers(1, 30).performers] for _ in range(3)]

    assert len({tuple(order) for order in orders}) > 1
    assert all(set(order) == set(orders[0]) for order in orders)


def test_the_fake_filters_edits_and_sorts_them_by_closed_time_either_way(
    box: FakeStashBox,
) -> None:
    first, second, third = box.add_generated_performers(3)
    box.delete_performer(first)
    box.merge_performers([second], into=third)
    http = OutboundClient(retries=0)
    query = """query ($input: EditQueryInput!) {
      queryEdits(input: $input) { count edits { operation target { ... on Performer { id } } } }
    }"""

    def edits(**filters: object) -> tuple[int, list[tuple[str, str]]]:
        data = http.graphql(
            box.endpoint, query, {"input": filters}, headers={"ApiKey": box.api_key}
        )["queryEdits"]
        return data["count"], [(e["operation"], e["target"]["id"]) for e in data["edits"]]

    assert edits(sort="CLOSED_AT", direction="ASC") == (2, [("DESTROY", first), ("MERGE", third)])
    assert edits(sort="CLOSED_AT", direction="DESC") == (2, [("MERGE", third), ("DESTROY", first)])
    assert edits(operation="MERGE", target_type="PERFORMER") == (1, [("MERGE", third)])
    assert edits(target_type="SCENE") == (0, [])
    assert edits(applied=False) == (0, [])
    assert edits(per_page=1, page=2) == (2, [("DESTROY", first)])


def test_the_fake_answers_validation_errors_with_422_like_gqlgen(box: FakeStashBox) -> None:
    http = OutboundClient(retries=0)

    with pytest.raises(GraphQLQueryError) as raised:
        http.graphql(
            box.endpoint, "{ findPerformer(id: 1) { nope } }", headers={"ApiKey": box.api_key}
        )

    assert box.request_count("/graphql") == 1
    assert "Cannot query field 'nope'" in raised.value.messages[0]
