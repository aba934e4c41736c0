from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from performers.models import MergeRecord, Performer, Source
from performers.services import StashIdInput, performer_create
from performers.tests.factories import STASHDB, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in() -> Client:
    user = User.objects.create_superuser("admin", "admin@example.com", "pw-for-tests-only")
    client = Client()
    client.force_login(user)
    return client


def test_admin_merge_action_asks_for_a_target_then_merges(admin_client_logged_in: Client) -> None:
    keep = performer_create(name="Keep Me", stash_ids=[StashIdInput(STASHDB, "keep")])
    drop = performer_create(
        name="Drop Me", stash_ids=[StashIdInput("https://fansdb.cc/graphql", "drop")]
    )
    url = reverse("admin:performers_performer_changelist")
    selected = {"action": "merge_selected", "_selected_action": [str(keep.pk), str(drop.pk)]}

    confirmation = admin_client_logged_in.post(url, selected)
    assert confirmation.status_code == 200
    assert b"Merge performers" in confirmation.content

    done = admin_client_logged_in.post(
        url, {**selected, "confirm": "yes", "target": str(keep.pk), "reason": "duplicate"}
    )
    assert done.status_code == 302
    assert list(Performer.objects.values_list("name", flat=True)) == ["Keep Me"]
    assert keep.stash_ids.count() == 2
    record = MergeRecord.objects.get()
    assert record.actor_label == "admin" and record.reason == "duplicate"


def test_admin_undo_action_restores_the_merged_performer(admin_client_logged_in: Client) -> None:
    from performers.services import performer_merge

    keep = performer_create(name="Keep Me")
    drop = performer_create(name="Drop Me", aliases=["Dee"])
    record = performer_merge(sources=[drop], target=keep)

    response = admin_client_logged_in.post(
        reverse("admin:performers_mergerecord_changelist"),
        {"action": "undo_merge", "_selected_action": [str(record.pk)]},
    )
    assert response.status_code == 302
    restored = Performer.objects.get(pk=drop.pk)
    assert list(restored.aliases.values_list("name", flat=True)) == ["Dee"]
    assert not keep.aliases.exists()


def test_admin_search_finds_performers_by_stash_id(admin_client_logged_in: Client) -> None:
    performer_create(name="Findable", stash_ids=[StashIdInput(STASHDB, "uuid-to-find")])
    performer_create(name="Other")
    response = admin_client_logged_in.get(
        reverse("admin:performers_performer_changelist"), {"q": "uuid-to-find"}
    )
    assert b"Findable" in response.content and b"Other" not in response.content


def test_admin_never_shows_a_source_api_key(admin_client_logged_in: Client) -> None:
    source = SourceFactory.create(api_key="very-secret-token")
    page = admin_client_logged_in.get(reverse("admin:performers_source_change", args=[source.pk]))
    assert page.status_code == 200
    assert b"very-secret-token" not in page.content
    listing = admin_client_logged_in.get(reverse("admin:performers_source_changelist"))
    assert b"very-secret-token" not in listing.content


def test_admin_keeps_the_api_key_when_the_field_is_left_empty(
    admin_client_logged_in: Client,
) -> None:
    source = SourceFactory.create(api_key="very-secret-token")
    response = admin_client_logged_in.post(
        reverse("admin:performers_source_change", args=[source.pk]),
        {
            "name": source.name,
            "kind": source.kind,
            "url": source.url,
            "api_key": "",
            "requests_per_minute": 100,
            "enabled": "on",
            "priority": 5,
        },
    )
    assert response.status_code == 302
    source = Source.objects.get(pk=source.pk)
    assert source.api_key == "very-secret-token" and source.requests_per_minute == 100


def test_admin_is_branded_and_links_its_icon(admin_client_logged_in: Client) -> None:
    page = admin_client_logged_in.get(reverse("admin:index"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Stash Sense administration" in html and "Django administration" not in html
    assert "stashsense/favicon.svg" in html
