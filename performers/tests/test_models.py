import pytest
from django.db import IntegrityError, transaction

from performers.tests.factories import STASHDB, PerformerFactory, StashIdFactory

pytestmark = pytest.mark.django_db


def test_the_same_stash_id_on_one_endpoint_is_refused() -> None:
    StashIdFactory(endpoint=STASHDB, stash_id="abc")
    with pytest.raises(IntegrityError), transaction.atomic():
        StashIdFactory(endpoint=STASHDB, stash_id="abc")


def test_the_same_stash_id_on_another_endpoint_is_allowed() -> None:
    StashIdFactory(endpoint=STASHDB, stash_id="abc")
    StashIdFactory(endpoint="https://fansdb.cc/graphql", stash_id="abc")


def test_a_performer_refuses_a_malformed_fuzzy_birth_date() -> None:
    from django.core.exceptions import ValidationError

    performer = PerformerFactory.build(birth_date="1990-1")
    with pytest.raises(ValidationError):
        performer.full_clean()
    PerformerFactory.build(birth_date="1990-01").full_clean()
