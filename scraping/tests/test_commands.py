"""The operator's commands: source_add, sync_source, import_stash_config."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from fakes import FakeStashBox
from fakes.stash_server import FakeStash, FakeStashBoxConfig
from performers.models import Performer, Source
from recognition.models import Face, IndexBuild
from scraping.choices import RunStatus
from scraping.models import SyncRun
from scraping.tests.test_sync_support import needs_specs, photos

pytestmark = pytest.mark.django_db


def _call(*args: str, **options: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def _add_box_source(box: FakeStashBox) -> str:
    return _call(
        "source_add",
        "box",
        "--kind",
        "stashbox",
        "--url",
        box.endpoint,
        "--api-key",
        box.api_key,
        "--rpm",
        "60000",
    )


def test_source_add_creates_then_updates_a_source_without_printing_its_key() -> None:
    first = _call(
        "source_add",
        "stashdb",
        "--kind",
        "stashbox",
        "--url",
        "https://stashdb.org/graphql",
        "--api-key",
        "very-secret",
    )
    again = _call(
        "source_add",
        "stashdb",
        "--kind",
        "stashbox",
        "--url",
        "https://stashdb.org/graphql",
        "--rpm",
        "120",
    )

    source = Source.objects.get()
    assert (source.api_key, source.requests_per_minute) == ("very-secret", 120)
    assert first.startswith("Added source stashdb") and again.startswith("Updated source stashdb")
    assert "very-secret" not in first + again and "with an API key" in again


def test_source_add_refuses_a_bad_url() -> None:
    with pytest.raises(CommandError, match="url"):
        _call("source_add", "broken", "--kind", "stashbox", "--url", "not a url")


@needs_specs
def test_source_add_and_sync_source_then_a_new_photo_of_a_synced_performer_is_identified(
    box: FakeStashBox, faces_dir: Path, face_models: None
) -> None:
    people = ["Bill_Simon", "Costas_Simitis", "Joan_Laporta"]
    ids = {
        person: box.add_performer(person.replace("_", " "), images=photos(person, 2))
        for person in people
    }
    _add_box_source(box)

    summary = _call("sync_source", "box", "--full", "--page-size", "2")

    assert summary.startswith("Synced box (full run #")
    assert "3 new" in summary and "6 photos" in summary
    assert f"{Face.objects.count()} faces" in summary and Face.objects.count() >= 5
    # The sync left an index holding every face, and `identify` names the performer in a
    # photo the gallery has never seen.
    build = IndexBuild.objects.get(active=True)
    assert build.faces == Face.objects.count()
    assert summary.endswith(f"The index holds {build.faces} faces.\n")
    fresh = photos("Bill_Simon", 1, skip=4)[0]
    body = json.loads(_call("identify", str(fresh), "--json"))
    best = body["faces"][0]["matches"][0]
    assert best["performer"]["id"] == str(
        Performer.objects.get(stash_ids__stash_id=ids["Bill_Simon"]).pk
    )


@needs_specs
def test_sync_source_reports_a_bad_api_key_as_an_error_without_the_key(box: FakeStashBox) -> None:
    box.add_generated_performers(1)
    Source.objects.create(name="box", kind="stashbox", url=box.endpoint, api_key="nope-secret")

    with pytest.raises(CommandError) as raised:
        _call("sync_source", "box")

    assert "bad API key for box" in str(raised.value)
    assert "nope-secret" not in str(raised.value)
    assert SyncRun.objects.get().status == RunStatus.AUTH_FAILED


def test_sync_source_async_queues_a_run_once_the_transaction_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    Source.objects.create(name="box", kind="stashbox", url="https://box.example/graphql")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out = _call("sync_source", "box", "--full", "--no-images", "--async")

    run = SyncRun.objects.get()
    assert out.startswith(f"Queued full sync run #{run.pk} of box")
    assert run.status == RunStatus.PENDING and run.options["images"] is False
    assert len(callbacks) == 1


def test_sync_source_names_an_unknown_source() -> None:
    with pytest.raises(CommandError, match="No source named 'nowhere'"):
        _call("sync_source", "nowhere")


@pytest.fixture
def stash() -> Any:
    boxes = [
        FakeStashBoxConfig("https://stashdb.org/graphql", "stashdb-key", "StashDB"),
        FakeStashBoxConfig("https://fansdb.cc/graphql", "fansdb-key", "FansDB"),
    ]
    with FakeStash(stash_boxes=boxes, api_key="stash-key") as fake:
        yield fake


def test_import_stash_config_makes_a_source_per_configured_stash_box(
    stash: FakeStash, settings: Any
) -> None:
    settings.STASH_URL = stash.url
    settings.STASH_API_KEY = "stash-key"

    first = _call("import_stash_config")
    again = _call("import_stash_config")

    sources = {s.name: s for s in Source.objects.all()}
    assert set(sources) == {"stashdb", "fansdb"}
    assert sources["stashdb"].url == "https://stashdb.org/graphql"
    assert sources["fansdb"].api_key == "fansdb-key"
    assert "Imported 2 stash-box endpoints" in first
    assert "updated stashdb" in again and "stashdb-key" not in first + again
    assert stash.requests_to("/graphql")[0].headers["apikey"] == "stash-key"


def test_import_stash_config_reports_a_wrong_stash_key(stash: FakeStash, settings: Any) -> None:
    settings.STASH_URL = stash.url
    settings.STASH_API_KEY = "wrong"

    with pytest.raises(CommandError, match="STASH_API_KEY"):
        _call("import_stash_config")
    assert not Source.objects.exists()
