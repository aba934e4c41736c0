from __future__ import annotations

from typing import Any

import pytest

from performers.models import MergeRecord, Performer, PerformerAlias, PerformerUrl, StashId
from performers.services import (
    StashIdInput,
    performer_create,
    performer_merge,
    performer_split,
)
from performers.tests.factories import STASHDB
from stashsense.errors import ApplicationError

pytestmark = pytest.mark.django_db
FANSDB = "https://fansdb.cc/graphql"


def _state() -> dict[str, Any]:
    """Everything the graph holds, comparable before and after."""
    return {
        "performers": sorted(
            Performer.objects.values_list("id", "name", "disambiguation", "birth_date")
        ),
        "stash_ids": sorted(
            StashId.objects.values_list("id", "performer_id", "endpoint", "stash_id")
        ),
        "aliases": sorted(PerformerAlias.objects.values_list("performer_id", "normalized")),
        "urls": sorted(PerformerUrl.objects.values_list("performer_id", "url", "site", "site_id")),
    }


@pytest.fixture
def pair() -> tuple[Performer, Performer]:
    target = performer_create(
        name="Anna Example",
        birth_date="1990-05",
        aliases=["Anna E"],
        urls=["https://twitter.com/annaexample"],
        stash_ids=[StashIdInput(STASHDB, "11111111-1111-1111-1111-111111111111")],
    )
    source = performer_create(
        name="Anna Exemple",
        disambiguation="fansdb",
        aliases=["Anna E", "Annie"],
        urls=["https://twitter.com/annaexample", "https://www.instagram.com/anna.ex/"],
        stash_ids=[
            StashIdInput(FANSDB, "22222222-2222-2222-2222-222222222222"),
            StashIdInput(STASHDB, "33333333-3333-3333-3333-333333333333"),
        ],
    )
    return target, source


def test_merge_moves_stash_ids_aliases_and_urls_to_the_target(
    pair: tuple[Performer, Performer],
) -> None:
    target, source = pair
    record = performer_merge(sources=[source], target=target, actor="tester", reason="same person")

    assert not Performer.objects.filter(pk=source.pk).exists()
    assert set(target.stash_ids.values_list("stash_id", flat=True)) == {
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
        "33333333-3333-3333-3333-333333333333",
    }
    assert set(target.aliases.values_list("normalized", flat=True)) == {
        "anna e",
        "annie",
        "anna exemple",
    }
    assert set(target.urls.values_list("site_id", flat=True)) == {"annaexample", "anna.ex"}
    assert record.actor_label == "tester" and record.reason == "same person"


def test_merge_keeps_two_stash_ids_of_one_endpoint_and_says_so(
    pair: tuple[Performer, Performer],
) -> None:
    target, source = pair
    record = performer_merge(sources=[source], target=target)
    assert target.stash_ids.filter(endpoint=STASHDB).count() == 2
    assert any(STASHDB in note for note in record.notes)


def test_split_undoes_a_merge_exactly(pair: tuple[Performer, Performer]) -> None:
    target, source = pair
    before = _state()
    record = performer_merge(sources=[source], target=target)
    assert _state() != before

    restored = performer_split(merge_record=record, actor="tester")

    assert [p.pk for p in restored] == [source.pk]
    assert _state() == before
    record.refresh_from_db()
    assert record.undone_at is not None


def test_split_refuses_to_undo_the_same_merge_twice(pair: tuple[Performer, Performer]) -> None:
    target, source = pair
    record = performer_merge(sources=[source], target=target)
    performer_split(merge_record=record)
    with pytest.raises(ApplicationError, match="already been undone"):
        performer_split(merge_record=record)


def test_merging_a_performer_into_itself_is_refused(pair: tuple[Performer, Performer]) -> None:
    target, _ = pair
    with pytest.raises(ApplicationError, match="into itself") as error:
        performer_merge(sources=[target], target=target)
    assert error.value.code == "merge_into_self"
    assert MergeRecord.objects.count() == 0


def test_chained_merges_unwind_newest_first() -> None:
    a = performer_create(name="A", stash_ids=[StashIdInput(STASHDB, "a")])
    b = performer_create(name="B", stash_ids=[StashIdInput(STASHDB, "b")])
    c = performer_create(name="C", stash_ids=[StashIdInput(STASHDB, "c")])
    before = _state()
    first = performer_merge(sources=[b], target=a)
    second = performer_merge(sources=[c], target=a)
    performer_split(merge_record=second)
    performer_split(merge_record=first)
    assert _state() == before
