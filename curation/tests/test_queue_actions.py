"""The queue's rows, filters and bulk actions (point 7 of the curation issue)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from curation.choices import ReviewStatus
from curation.models import ReviewItem
from curation.services import review_item_skip
from curation.tests.factories import (
    DuplicateItemFactory,
    LowConfidenceItemFactory,
    SuspiciousFaceItemFactory,
)
from performers.models import Performer
from performers.services import StashIdInput, performer_create
from performers.tests.factories import STASHDB, SourceFactory
from recognition.tests.factories import FaceFactory

pytestmark = pytest.mark.django_db
TPDB = "https://api.theporndb.net/graphql"


@pytest.fixture
def client_in(curator: Any) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def test_queue_rows_show_each_sides_source_and_best_face(client_in: Client) -> None:
    SourceFactory.create(name="StashDB", url=STASHDB)
    SourceFactory.create(name="ThePornDB", url=TPDB)
    a = performer_create(name="Bill Simon", stash_ids=[StashIdInput(STASHDB, "b1")])
    b = performer_create(name="Bill Simon", stash_ids=[StashIdInput(TPDB, "b2")])
    FaceFactory.create(performer=a, quality=0.3)
    best = FaceFactory.create(performer=a, quality=0.9)
    DuplicateItemFactory.create(performer_a=a, performer_b=b)

    page = client_in.get(reverse("curation:queue")).content.decode()

    # Unlinked stash IDs fall back to the endpoint's host.
    assert 'Bill Simon <span class="source">(stashdb.org)</span>' in page
    assert "(api.theporndb.net)" in page
    assert f'src="{reverse("curation:face_crop", args=[best.pk])}"' in page


def test_queue_rows_name_the_linked_source(client_in: Client) -> None:
    source = SourceFactory.create(name="StashDB", url=STASHDB)
    a = performer_create(name="Bill Simon", stash_ids=[StashIdInput(STASHDB, "b1")])
    a.stash_ids.update(source=source)
    DuplicateItemFactory.create(performer_a=a)
    page = client_in.get(reverse("curation:queue")).content.decode()
    assert 'Bill Simon <span class="source">(StashDB)</span>' in page


def test_a_skipped_item_stays_in_all_undecided(client_in: Client, curator: Any) -> None:
    item = DuplicateItemFactory.create(summary="put aside")
    review_item_skip(item=item, user=curator)

    page = client_in.get(reverse("curation:queue")).content.decode()

    assert f'data-item="{item.pk}"' in page and "Skipped" in page
    assert "All undecided <strong>1</strong>" in page


def test_the_status_filter_has_all(client_in: Client) -> None:
    open_item = DuplicateItemFactory.create()
    done = DuplicateItemFactory.create(status=ReviewStatus.REJECTED)

    undecided = client_in.get(reverse("curation:queue")).content.decode()
    everything = client_in.get(reverse("curation:queue"), {"status": "all"}).content.decode()

    assert f'data-item="{done.pk}"' not in undecided
    assert f'data-item="{done.pk}"' in everything and f'data-item="{open_item.pk}"' in everything
    assert '<option value="all" selected>All</option>' in everything


def test_opening_an_item_claims_nothing(client_in: Client) -> None:
    item = DuplicateItemFactory.create()
    client_in.get(reverse("curation:item", args=[item.pk]))
    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN and item.claimed_by is None


def test_bulk_accept_of_ticked_items_merges_each_pair(client_in: Client) -> None:
    first = DuplicateItemFactory.create(score=0.9)
    second = SuspiciousFaceItemFactory.create(score=0.8)
    untouched = DuplicateItemFactory.create(score=0.7)

    response = client_in.post(
        reverse("curation:bulk"),
        {"action": "accept_selected", "items": [first.pk, second.pk], "filters": ""},
        follow=True,
    )

    assert b"Accepted 2 of 2 item(s)." in response.content
    statuses = dict(ReviewItem.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == ReviewStatus.ACCEPTED
    assert statuses[untouched.pk] == ReviewStatus.OPEN
    assert first.performer_b is not None
    assert not Performer.objects.filter(pk=first.performer_b.pk).exists()


def test_bulk_reject_above_a_score_keeps_to_the_filters(client_in: Client) -> None:
    high = DuplicateItemFactory.create(score=0.95)
    low = DuplicateItemFactory.create(score=0.4)
    other_kind = SuspiciousFaceItemFactory.create(score=0.99)

    response = client_in.post(
        reverse("curation:bulk"),
        {"action": "reject_above", "min_score": "0.9", "filters": "kind=duplicate"},
    )

    assert response["Location"] == reverse("curation:queue") + "?kind=duplicate"
    statuses = dict(ReviewItem.objects.values_list("pk", "status"))
    assert statuses[high.pk] == ReviewStatus.REJECTED
    assert statuses[low.pk] == statuses[other_kind.pk] == ReviewStatus.OPEN


def test_bulk_accept_of_a_low_confidence_item_takes_its_best_candidate(client_in: Client) -> None:
    named = LowConfidenceItemFactory.create(
        payload={"scene_id": "1", "person": 0, "candidates": [{"performer_id": "p1", "name": "P"}]}
    )
    nobody = LowConfidenceItemFactory.create()

    response = client_in.post(
        reverse("curation:bulk"),
        {"action": "accept_selected", "items": [named.pk, nobody.pk]},
        follow=True,
    )

    named.refresh_from_db()
    assert named.resolution == {"candidate": "p1", "name": "P"}
    assert ReviewItem.objects.get(pk=nobody.pk).status == ReviewStatus.OPEN
    assert b"Accepted 1 of 2" in response.content and b"no candidate to accept" in response.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "accept_selected"}, b"Tick at least one item first."),
        ({"action": "reject_above", "min_score": ""}, b"Give the lowest score"),
        ({"action": "delete_everything"}, b"Choose accept or reject."),
    ],
)
def test_bulk_without_a_choice_says_what_is_missing(
    client_in: Client, data: dict[str, str], message: bytes
) -> None:
    item = DuplicateItemFactory.create()
    response = client_in.post(reverse("curation:bulk"), data, follow=True)
    assert response.status_code == 200 and message in response.content
    assert ReviewItem.objects.get(pk=item.pk).status == ReviewStatus.OPEN


def test_a_low_confidence_thumbnail_is_served_as_an_image(client_in: Client) -> None:
    jpeg = FaceFactory.build().crop
    uri = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
    item = LowConfidenceItemFactory.create(
        payload={"scene_id": "1", "thumbnail": uri, "candidates": []}
    )

    queue = client_in.get(reverse("curation:queue")).content.decode()
    image = client_in.get(reverse("curation:item_thumbnail", args=[item.pk]))

    url = reverse("curation:item_thumbnail", args=[item.pk])
    assert f'src="{url}"' in queue and "base64" not in queue
    assert image["Content-Type"] == "image/jpeg" and image.content == jpeg


def test_a_thumbnail_that_is_not_an_inline_image_is_not_found(client_in: Client) -> None:
    item = LowConfidenceItemFactory.create(
        payload={"thumbnail": "data:image/jpeg;base64,%%%", "candidates": []}
    )
    response = client_in.get(reverse("curation:item_thumbnail", args=[item.pk]))
    assert response.status_code == 404
