"""Face galleries per performer: the grid, move / remove / restore, merge (point 11)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from curation.tests.factories import DuplicateItemFactory
from performers.models import MergeRecord, Performer
from performers.services import performer_create
from performers.tests.factories import SourceFactory
from recognition.choices import FaceOrigin, FaceStatus
from recognition.models import SourceImage
from recognition.tests.factories import FaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(curator: Any) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def _gallery(performer: Performer, **query: str) -> str:
    url = reverse("curation:gallery", args=[performer.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_gallery_shows_every_face_with_quality_source_and_date(client_in: Client) -> None:
    anna = performer_create(name="Anna Example")
    source = SourceFactory.create(name="StashDB")
    image = SourceImage.objects.create(performer=anna, source=source, sha256="0" * 64)
    synced = FaceFactory.create(performer=anna, quality=0.82, image=image, origin=FaceOrigin.SYNC)
    removed = FaceFactory.create(performer=anna, quality=0.4, status=FaceStatus.REMOVED)

    page = client_in.get(_gallery(anna)).content.decode()

    assert f'data-face="{synced.pk}"' in page and f'data-face="{removed.pk}"' in page
    assert "Quality 82%" in page and "From StashDB" in page and "Enrolled from a folder" in page
    assert synced.created_at.strftime("%Y-%m-%d") in page
    assert "1 face in use, 1 removed" in page
    assert f'value="restore:{removed.pk}"' in page and f'value="remove:{synced.pk}"' in page


def test_remove_then_restore_a_face(client_in: Client) -> None:
    face = FaceFactory.create()
    url = reverse("curation:gallery_face", args=[face.performer.pk])

    client_in.post(url, {"act": f"remove:{face.pk}"})
    face.refresh_from_db()
    assert face.status == FaceStatus.REMOVED

    response = client_in.post(url, {"act": f"restore:{face.pk}"}, follow=True)
    face.refresh_from_db()
    assert face.status == FaceStatus.ACTIVE and b"Restored the face" in response.content


def test_move_a_face_to_the_performer_it_belongs_to(client_in: Client) -> None:
    face = FaceFactory.create()
    owner = face.performer
    other = performer_create(name="The Real One")

    response = client_in.post(
        reverse("curation:gallery_face", args=[owner.pk]),
        {"act": f"move:{face.pk}", "to": str(other.pk), "compare": str(other.pk)},
    )

    face.refresh_from_db()
    assert face.performer == other
    assert response["Location"] == _gallery(owner, compare=str(other.pk))


@pytest.mark.parametrize(
    "data",
    [{"act": "move:1"}, {"act": "explode:1"}, {"act": "remove:x"}, {}],
)
def test_a_face_action_that_makes_no_sense_is_refused_plainly(
    client_in: Client, data: dict[str, str]
) -> None:
    face = FaceFactory.create()
    response = client_in.post(
        reverse("curation:gallery_face", args=[face.performer.pk]), data, follow=True
    )
    assert response.status_code == 200 and b'class="error"' in response.content
    face.refresh_from_db()
    assert face.status == FaceStatus.ACTIVE


def test_a_face_of_another_gallery_is_not_found(client_in: Client) -> None:
    face = FaceFactory.create()
    stranger = performer_create(name="Stranger")
    response = client_in.post(
        reverse("curation:gallery_face", args=[stranger.pk]), {"act": f"remove:{face.pk}"}
    )
    assert response.status_code == 404


def test_compare_shows_both_galleries_and_merges_keeping_the_chosen_one(
    client_in: Client,
) -> None:
    a_face = FaceFactory.create()
    b_face = FaceFactory.create()
    a, b = a_face.performer, b_face.performer

    page = client_in.get(_gallery(a, compare=str(b.pk))).content.decode()
    assert f'data-face="{a_face.pk}"' in page and f'data-face="{b_face.pk}"' in page
    assert f"Move to {b.name}" in page and f"Move to {a.name}" in page

    response = client_in.post(
        reverse("curation:gallery_merge", args=[a.pk]),
        {"other": str(b.pk), "keep": str(b.pk)},
        follow=True,
    )

    assert not Performer.objects.filter(pk=a.pk).exists()
    a_face.refresh_from_db()
    assert a_face.performer == b
    record = MergeRecord.objects.get()
    assert reverse("admin:performers_mergerecord_change", args=[record.pk]) in (
        response.content.decode()
    )


def test_merge_must_keep_one_of_the_two(client_in: Client) -> None:
    a, b, c = (performer_create(name=name) for name in ("A", "B", "C"))
    client_in.post(
        reverse("curation:gallery_merge", args=[a.pk]), {"other": str(b.pk), "keep": str(c.pk)}
    )
    assert Performer.objects.count() == 3


def test_search_finds_performers_with_their_face_counts(client_in: Client) -> None:
    anna = performer_create(name="Anna Example", aliases=["Annie"])
    FaceFactory.create(performer=anna)
    performer_create(name="Somebody Else")

    page = client_in.get(reverse("curation:performers"), {"q": "annie"}).content.decode()

    assert reverse("curation:gallery", args=[anna.pk]) in page and "1 face" in page
    assert "Somebody Else" not in page


def test_galleries_are_reachable_from_a_queue_item_and_the_admin(
    client_in: Client, admin_client: Client
) -> None:
    item = DuplicateItemFactory.create()
    assert item.performer_a is not None and item.performer_b is not None
    face = FaceFactory.create(performer=item.performer_a)

    page = client_in.get(reverse("curation:item", args=[item.pk])).content.decode()
    assert _gallery(item.performer_a, compare=str(item.performer_b.pk)) in page

    change = reverse("admin:performers_performer_change", args=[item.performer_a.pk])
    admin_page = admin_client.get(change).content.decode()
    assert _gallery(item.performer_a) in admin_page
    assert reverse("curation:face_crop", args=[face.pk]) in admin_page


def test_an_unknown_performer_is_not_found(client_in: Client) -> None:
    url = reverse("curation:gallery", args=["00000000-0000-0000-0000-000000000000"])
    assert client_in.get(url).status_code == 404
