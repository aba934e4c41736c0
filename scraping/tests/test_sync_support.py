"""What the sync tests share besides fixtures (scraping/tests/conftest.py): photos, a
source factory, a one-call sync, and a canonical snapshot of the identity graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fakes import FakeStashBox, FakeThePornDB, stashbox_schema_dir
from performers.choices import SourceKind
from performers.models import Performer, Source
from performers.services import source_upsert
from recognition.models import Face, SourceImage
from scraping.models import SyncItem, SyncRun
from scraping.services import sync_run_create, sync_run_execute

REPO_ROOT = Path(__file__).resolve().parents[2]
FACES = REPO_ROOT.parent / "shared" / "faces"
# LFW folders: one centred face per photo, 150 px (cheap to embed).
PEOPLE = [
    "Carmen_Electra",
    "Bill_Simon",
    "Costas_Simitis",
    "Joan_Laporta",
    "John_Stockton",
    "Lance_Bass",
    "Michael_Jackson",
    "Alastair_Campbell",
    "Emanuel_Ginobili",
]
# Quick retries: faults must not make the tests slow.
FAST_HTTP: dict[str, Any] = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": (2.0, 5.0)}

needs_specs = pytest.mark.skipif(
    not stashbox_schema_dir().is_dir(), reason="stash-box schema specs (../shared/specs) not found"
)


def photos(person: str, count: int, *, skip: int = 0) -> list[Path]:
    return sorted((FACES / person).glob("*.jpg"))[skip : skip + count]


def stashbox_source(box: FakeStashBox, name: str = "box", **fields: Any) -> Source:
    source, _ = source_upsert(
        name=name,
        kind=SourceKind.STASHBOX,
        url=box.endpoint,
        api_key=fields.pop("api_key", box.api_key),
        requests_per_minute=fields.pop("requests_per_minute", 60_000),
    )
    if fields:
        Source.objects.filter(pk=source.pk).update(**fields)
        source.refresh_from_db()
    return source


def theporndb_source(fake: FakeThePornDB, name: str = "tpdb") -> Source:
    source, _ = source_upsert(
        name=name,
        kind=SourceKind.THEPORNDB,
        url=fake.url,
        api_key=fake.token,
        requests_per_minute=60_000,
    )
    return source


def sync(source: Source, *, full: bool = False, **options: Any) -> SyncRun:
    """Create a run and execute it in this process (small pages, quick retries)."""
    options.setdefault("page_size", 3)
    options.setdefault("max_photos", 2)
    run = sync_run_create(source=source, full=full, **options)
    return sync_run_execute(run=run, http_options=FAST_HTTP)


def graph() -> list[tuple[Any, ...]]:
    """The identity graph in a comparable form: per performer its keys, names, links, faces."""
    snapshot = []
    for performer in Performer.objects.prefetch_related(
        "stash_ids", "aliases", "urls", "body_modifications"
    ).order_by("name", "pk"):
        snapshot.append(
            (
                performer.name,
                tuple(
                    sorted(
                        (s.endpoint, s.stash_id, s.deleted, s.merged_into)
                        for s in performer.stash_ids.all()
                    )
                ),
                tuple(sorted(a.name for a in performer.aliases.all())),
                tuple(sorted(u.url for u in performer.urls.all())),
                tuple(
                    sorted(
                        (m.kind, m.location, m.description)
                        for m in performer.body_modifications.all()
                    )
                ),
                tuple(
                    sorted(
                        SourceImage.objects.filter(performer=performer).values_list(
                            "sha256", flat=True
                        )
                    )
                ),
                Face.objects.filter(performer=performer).count(),
            )
        )
    return snapshot


def items_of(run: SyncRun) -> list[str]:
    return list(SyncItem.objects.filter(run=run).values_list("upstream_id", flat=True))


def test_graph_snapshot_of_an_empty_database_is_empty(db: None) -> None:
    assert graph() == []
