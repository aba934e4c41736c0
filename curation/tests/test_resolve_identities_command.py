from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from curation.models import ReviewItem
from performers.models import MergeRecord, Performer
from performers.services import StashIdInput, performer_create
from performers.tests.factories import STASHDB, SourceFactory
from recognition.tests.factories import gallery, identity_centre

pytestmark = pytest.mark.django_db

FANSDB = "https://fansdb.cc/graphql"
UUID = "5f0e5a7e-0000-4000-8000-00000000000a"


@pytest.fixture
def identities() -> None:
    performer_create(name="Linked", stash_ids=[StashIdInput(STASHDB, UUID)])
    performer_create(
        name="Linking",
        urls=[f"https://stashdb.org/performers/{UUID}"],
        stash_ids=[StashIdInput(FANSDB, "f-1")],
    )
    centre = identity_centre(11)
    twin_a = performer_create(name="Twin Name")
    twin_b = performer_create(name="Twin Name", stash_ids=[StashIdInput(FANSDB, "f-2")])
    gallery(twin_a, centre, 3, seed=1)
    gallery(twin_b, centre, 3, seed=2)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("resolve_identities", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_each_decision_once_and_changes_nothing(identities: None) -> None:
    output = _run("--dry-run")

    lines = output.strip().splitlines()
    assert sum(line.startswith("WOULD MERGE") for line in lines) == 1
    assert sum(line.startswith("WOULD REVIEW") for line in lines) == 1
    assert "Explicit cross-link" in output and "Same name and similar faces" in output
    assert lines[-1] == (
        "Resolved 4 performers: would merge 1 pairs, would suggest 1 for review (dry run)."
    )
    assert Performer.objects.count() == 4
    assert not MergeRecord.objects.exists() and not ReviewItem.objects.exists()


def test_a_run_merges_and_queues(identities: None) -> None:
    output = _run("--check-faces")

    assert "MERGE" in output and output.strip().endswith("flagged 0 faces.")
    assert Performer.objects.count() == 3
    assert MergeRecord.objects.get().actor_label == "resolver"
    assert ReviewItem.objects.count() == 1
    # Running again finds nothing new.
    assert _run().strip().splitlines()[-1].startswith("Resolved 3 performers: merged 0 pairs")


def test_source_limits_the_run(identities: None) -> None:
    SourceFactory.create(name="fansdb", url=FANSDB)
    output = _run("--source", "fansdb", "--dry-run")
    assert output.strip().splitlines()[-1].startswith("Resolved 2 performers")


def test_unknown_source_is_an_error() -> None:
    with pytest.raises(CommandError):
        _run("--source", "nope")
