"""Gallery updates from a feed: a publisher's real bundles served by a fake web server.

The publisher exports a full bundle and two deltas with `export_bundle --feed`; the consumer
(the same database, wiped, see test_bundle_support) installs the full one and then updates
from the feed. A file unlike the feed, or a bundle that fails its own checks, leaves the
gallery exactly as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from bundles.feed import FEED_NAME, feed_parse
from bundles.feed_updates import bundle_feed_status
from bundles.importer import bundle_import, bundle_last_applied
from bundles.models import BundleExport, BundleImport
from bundles.tasks import bundle_feed_check_task
from bundles.tests.test_bundle_support import (
    PROFILE,
    active_build_id,
    bundle_env,
    consumer_wipe,
    face_add,
    face_state,
    face_vector,
    graph_state,
    probes,
    publish_gallery,
    rewrite_bundle,
    search_state,
)
from fakes import FakeBundleFeed
from performers.models import Performer
from performers.services import StashIdInput, performer_alias_add, performer_create
from stashsense.celery import app as celery_app

__all__ = ["bundle_env"]


def _state() -> tuple[Any, ...]:
    return graph_state(), face_state(active_only=True), search_state(probes(6))


@dataclass
class Published:
    folder: Path
    exports: list[BundleExport]
    states: list[tuple[Any, ...]]

    def feed(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.folder / FEED_NAME).read_bytes())
        return loaded

    def bundle_name(self, number: int) -> str:
        return Path(self.exports[number].path).name


def _export(folder: Path, since: str | None = None) -> BundleExport:
    arguments = [str(folder), "--feed"] + (["--since", since] if since else [])
    call_command("export_bundle", *arguments, stdout=io.StringIO())
    export = BundleExport.objects.order_by("-pk").first()
    assert export is not None and export.status == "done"
    return export


@pytest.fixture
def published(bundle_env: Path) -> Published:
    """A full bundle and two deltas in one folder with their feed, then an empty consumer."""
    folder = bundle_env / "published"
    folder.mkdir()
    people = publish_gallery(performers=4, faces_each=2)
    exports, states = [_export(folder)], [_state()]

    newcomer = performer_create(
        name="Performer 4", stash_ids=[StashIdInput("https://fansdb.cc/graphql", "f4")]
    )
    face_add(newcomer, face_vector(4, 400))
    performer_alias_add(performer=people[0], name="Newer 0")
    exports.append(_export(folder, since=exports[0].version))
    states.append(_state())

    Performer.objects.filter(pk=people[1].pk).update(country="CA")
    face_add(people[2], face_vector(2, 777))
    exports.append(_export(folder, since=exports[1].version))
    states.append(_state())
    consumer_wipe()
    return Published(folder, exports, states)


@pytest.fixture
def feed_server(published: Published, settings: Any) -> Iterator[FakeBundleFeed]:
    with FakeBundleFeed(published.folder) as server:
        settings.STASHSENSE_BUNDLE_FEED = server.feed_url
        settings.STASHSENSE_BUNDLE_FEED_HOSTS = []
        yield server


def _install_first_bundle(published: Published) -> int | None:
    bundle_import(path=Path(published.exports[0].path))
    assert _state() == published.states[0]
    return active_build_id()


def _update(**options: Any) -> str:
    out = io.StringIO()
    call_command("import_bundle", "--from-feed", stdout=out, **options)
    return out.getvalue()


def _downloaded(server: FakeBundleFeed) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in server.requests if r.path.endswith(".zip")]


def test_export_bundle_writes_the_feed_beside_the_bundles(published: Published) -> None:
    feed = feed_parse((published.folder / FEED_NAME).read_bytes())

    assert [entry.version for entry in feed.entries] == [e.version for e in published.exports]
    assert [entry.kind for entry in feed.entries] == ["full", "delta", "delta"]
    assert [entry.base_version for entry in feed.entries] == [
        "",
        published.exports[0].version,
        published.exports[1].version,
    ]
    for entry, export in zip(feed.entries, published.exports, strict=True):
        assert entry.url == Path(export.path).name and entry.sha256 == export.sha256
        assert entry.size == Path(export.path).stat().st_size
        assert entry.profile["name"] == PROFILE and "model_hashes" in entry.profile


def test_an_update_applies_the_deltas_since_the_installed_version(
    published: Published, feed_server: FakeBundleFeed
) -> None:
    _install_first_bundle(published)

    out = _update(download_dir=published.folder.parent / "downloads")

    assert _state() == published.states[2]
    assert [r.version for r in BundleImport.objects.order_by("pk")] == [
        e.version for e in published.exports
    ]
    assert _downloaded(feed_server) == [published.bundle_name(1), published.bundle_name(2)]
    assert f"to bundle {published.exports[2].version}" in out
    assert "up to date" in _update(download_dir=published.folder.parent / "downloads")


def test_a_fresh_install_gets_the_full_bundle_then_its_deltas(
    published: Published, feed_server: FakeBundleFeed
) -> None:
    _update(download_dir=published.folder.parent / "downloads")

    assert _state() == published.states[2]
    assert _downloaded(feed_server) == [published.bundle_name(n) for n in range(3)]


@pytest.mark.parametrize("damage", ["truncated", "other bytes"])
def test_a_bundle_unlike_the_feed_is_refused_before_anything_is_applied(
    published: Published, feed_server: FakeBundleFeed, damage: str
) -> None:
    build = _install_first_bundle(published)
    body = Path(published.exports[2].path).read_bytes()
    bad = body[: len(body) // 2] if damage == "truncated" else body[:-10] + b"x" * 10
    feed_server.override(published.bundle_name(2), bad)
    downloads = published.folder.parent / "downloads"

    with pytest.raises(CommandError, match="not the file the feed lists"):
        _update(download_dir=downloads)

    assert _state() == published.states[0] and active_build_id() == build
    last = bundle_last_applied(profile=PROFILE)
    assert last is not None and last.version == published.exports[0].version
    assert not (downloads / published.bundle_name(2)).exists()  # fetched again next time
    status = bundle_feed_status()
    assert status is not None and "not the file the feed lists" in status.update_error


def test_a_failure_in_the_last_delta_rolls_back_the_ones_before_it(
    published: Published, feed_server: FakeBundleFeed, bundle_env: Path
) -> None:
    """The feed describes the file rightly, but the bundle itself is corrupt (a member whose
    bytes do not match its manifest): the first delta was applied in the same transaction,
    and goes too."""
    build = _install_first_bundle(published)
    last_delta = Path(published.exports[2].path)
    broken = bundle_env / "broken.zip"
    rewrite_bundle(last_delta, broken, {"performers.jsonl": b'{"id": "tampered"}\n'})
    broken.replace(last_delta)
    feed = published.feed()
    feed["bundles"][2].update(
        sha256=hashlib.sha256(last_delta.read_bytes()).hexdigest(),
        size=last_delta.stat().st_size,
    )
    (published.folder / FEED_NAME).write_text(json.dumps(feed))
    index_files = set((bundle_env / "index").rglob("*.index"))

    with pytest.raises(CommandError, match="Corrupt bundle"):
        _update(download_dir=bundle_env / "downloads")

    assert _downloaded(feed_server) == [published.bundle_name(1), published.bundle_name(2)]
    assert _state() == published.states[0] and active_build_id() == build
    assert [r.version for r in BundleImport.objects.filter(status="done")] == [
        published.exports[0].version
    ]
    assert set((bundle_env / "index").rglob("*.index")) == index_files


def test_bundles_on_a_host_that_is_not_allow_listed_are_not_fetched(
    published: Published, feed_server: FakeBundleFeed
) -> None:
    build = _install_first_bundle(published)
    feed = published.feed()
    feed["bundles"][1]["url"] = f"http://localhost:{feed_server.port}/gallery/" + (
        published.bundle_name(1)
    )
    (published.folder / FEED_NAME).write_text(json.dumps(feed))

    with pytest.raises(CommandError):
        _update(download_dir=published.folder.parent / "downloads")

    assert _downloaded(feed_server) == [] and active_build_id() == build


def test_a_feed_that_is_not_a_feed_is_a_clear_error(
    published: Published, feed_server: FakeBundleFeed
) -> None:
    feed_server.override(FEED_NAME, b"<html>not here</html>")

    with pytest.raises(CommandError, match="Bundle feed: not JSON"):
        _update()


def test_without_a_feed_the_command_says_what_to_set(settings: Any, db: None) -> None:
    settings.STASHSENSE_BUNDLE_FEED = ""
    with pytest.raises(CommandError, match="STASHSENSE_BUNDLE_FEED"):
        _update()


def test_health_says_when_the_feed_has_a_newer_bundle(
    published: Published, feed_server: FakeBundleFeed, client: Client
) -> None:
    _install_first_bundle(published)
    assert client.get("/api/v1/health").json()["gallery_update"]["checked_at"] is None

    bundle_feed_check_task()

    update = client.get("/api/v1/health").json()["gallery_update"]
    assert update["installed"] == published.exports[0].version
    assert update["available"] == published.exports[2].version
    assert update["update_available"] is True and update["checked_at"]
    _update(download_dir=published.folder.parent / "downloads")
    after = client.get("/api/v1/health").json()["gallery_update"]
    assert after["installed"] == published.exports[2].version
    assert after["update_available"] is False


def test_health_has_no_gallery_update_without_a_feed(
    settings: Any, client: Client, db: None
) -> None:
    settings.STASHSENSE_BUNDLE_FEED = ""
    assert client.get("/api/v1/health").json()["gallery_update"] is None


def test_the_dashboard_shows_the_update_and_its_button_applies_it(
    published: Published,
    feed_server: FakeBundleFeed,
    client: Client,
    curator: Any,
) -> None:
    _install_first_bundle(published)
    bundle_feed_check_task()
    client.force_login(curator)
    assert "A newer gallery bundle is available" in client.get("/dashboard/").content.decode()
    page = client.get("/dashboard/jobs/").content.decode()
    assert "A newer gallery bundle is available" in page
    assert published.exports[2].version in page
    # The button queues the update task; run queued tasks here instead of on a worker.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        response = client.post("/dashboard/gallery-update", follow=True)
    finally:
        celery_app.conf.task_always_eager = eager

    assert response.status_code == 200
    assert _state() == published.states[2]
    assert "Gallery update started" in response.content.decode()


def test_the_update_button_needs_staff_and_a_csrf_token(
    published: Published, feed_server: FakeBundleFeed, curator: Any, django_user_model: Any
) -> None:
    _install_first_bundle(published)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(curator)
    assert strict.post("/dashboard/gallery-update").status_code == 403
    visitor = Client()
    visitor.force_login(django_user_model.objects.create_user("visitor", password="pw"))
    assert visitor.post("/dashboard/gallery-update").status_code == 302  # to the login page
    assert visitor.get("/dashboard/gallery-update").status_code in (302, 405)
    last = bundle_last_applied(profile=PROFILE)
    assert last is not None and last.version == published.exports[0].version


def test_a_download_cut_short_resumes_and_the_update_applies(
    published: Published, feed_server: FakeBundleFeed
) -> None:
    _install_first_bundle(published)
    feed_server.truncate_next(1, path=f"/gallery/{published.bundle_name(1)}")

    _update(download_dir=published.folder.parent / "downloads")

    assert _state() == published.states[2]
    asked = feed_server.requests_to(f"/gallery/{published.bundle_name(1)}")
    assert [r.headers.get("range") is not None for r in asked] == [False, True]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a Postgres session lock")
def test_a_second_update_while_one_runs_is_refused(
    published: Published, feed_server: FakeBundleFeed
) -> None:
    build = _install_first_bundle(published)
    other = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    try:
        other.execute(
            "SELECT pg_advisory_lock(%s)", [zlib.crc32(f"bundles.feed_update:{PROFILE}".encode())]
        )
        with pytest.raises(CommandError, match="already running"):
            _update(download_dir=published.folder.parent / "downloads")
    finally:
        other.close()

    assert active_build_id() == build and _downloaded(feed_server) == []


def test_the_admin_lists_what_the_feed_offered(
    published: Published, feed_server: FakeBundleFeed, admin_client: Client
) -> None:
    bundle_feed_check_task()

    page = admin_client.get("/admin/bundles/bundlefeedstate/").content.decode()

    assert feed_server.feed_url in page and published.exports[2].version in page
