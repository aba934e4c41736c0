"""Two reviewers at once, each on their own database connection (PostgreSQL only)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from curation.models import ReviewItem
from curation.services import review_item_accept, review_item_claim
from curation.tests.factories import DuplicateItemFactory, duplicate_item
from performers.models import MergeRecord, Performer
from stashsense.errors import ApplicationError

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks: set DATABASE_URL=postgres://...")


def _race(work: Callable[[Any], Any], users: list[Any]) -> list[Any]:
    """Run `work(user)` for every user in its own thread and connection, all at once."""
    barrier = threading.Barrier(len(users))
    results: list[Any] = [None] * len(users)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(users[index])
        except ApplicationError as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(users))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def reviewers(django_user_model: Any) -> list[Any]:
    return [django_user_model.objects.create_user(f"reviewer{i}") for i in range(4)]


def test_of_concurrent_claims_exactly_one_wins(reviewers: list[Any]) -> None:
    for _ in range(5):
        item = DuplicateItemFactory.create()

        def claim(user: Any, pk: int = item.pk) -> bool:
            return review_item_claim(item=ReviewItem.objects.get(pk=pk), user=user)

        results = _race(claim, reviewers)
        assert sorted(results) == [False, False, False, True]
        winner = reviewers[results.index(True)]
        assert ReviewItem.objects.get(pk=item.pk).claimed_by == winner


def test_concurrent_accepts_merge_once(reviewers: list[Any]) -> None:
    item, keep, _ = duplicate_item()

    results = _race(
        lambda user: review_item_accept(item=ReviewItem.objects.get(pk=item.pk), user=user),
        reviewers,
    )

    applied = [r for r in results if isinstance(r, ReviewItem)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(applied) == 1 and len(refused) == 3
    assert {error.code for error in refused} == {"review_item_decided"}
    assert MergeRecord.objects.count() == 1
    assert list(Performer.objects.values_list("pk", flat=True)) == [keep.pk]
