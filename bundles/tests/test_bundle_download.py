"""Bundles by URL: a cut download resumes with HTTP Range, then imports like a file."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command

from bundles.download import BundleDownloadClient, bundle_download
from bundles.export import bundle_export
from bundles.tests.test_bundle_support import (
    bundle_env,
    consumer_wipe,
    face_state,
    graph_state,
    publish_gallery,
)
from recognition.models import IndexBuild
from stashsense.http import NotFoundError

__all__ = ["bundle_env"]


@dataclass
class Served:
    """What the test server sends, and what it was asked."""

    body: bytes = b""
    cut_after: list[int] = field(default_factory=list)  # one entry per response to cut short
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            served.requests.append(dict(self.headers.items()))
            if not self.path.startswith("/bundles/"):
                self.send_error(404)
                return
            body, start = served.body, 0
            wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
            if wanted and self.headers.get("If-Range", served.etag) == served.etag:
                start = int(wanted.group(1))
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.send_header("ETag", served.etag)
            self.end_headers()
            payload = body[start:]
            if served.cut_after:
                payload = payload[: served.cut_after.pop(0)]
                self.close_connection = True
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    served = Served()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client() -> BundleDownloadClient:
    return BundleDownloadClient(sleep=lambda seconds: None, timeout=5.0)


def test_a_download_cut_mid_way_resumes_where_it_stopped(
    server: tuple[str, Served], tmp_path: Path
) -> None:
    url, served = server
    served.body = bytes(range(256)) * 4096  # 1 MiB
    served.cut_after = [300_000]

    path = bundle_download(url=f"{url}/bundles/gallery.zip", directory=tmp_path, client=_client())

    assert path == tmp_path / "gallery.zip" and path.read_bytes() == served.body
    assert [r.get("Range") for r in served.requests] == [None, "bytes=300000-"]
    assert served.requests[1]["If-Range"] == served.etag
    assert not list(tmp_path.glob("*.part*"))


def test_a_partial_file_from_an_earlier_run_is_finished_not_fetched_again(
    server: tuple[str, Served], tmp_path: Path
) -> None:
    url, served = server
    served.body = b"x" * 100_000 + b"y" * 50_000
    (tmp_path / "b.zip.part").write_bytes(served.body[:100_000])
    (tmp_path / "b.zip.part.validator").write_text(served.etag)

    path = bundle_download(url=f"{url}/bundles/b.zip", directory=tmp_path, client=_client())

    assert path.read_bytes() == served.body
    assert served.requests[0]["Range"] == "bytes=100000-"


def test_a_partial_file_of_a_file_that_changed_since_starts_over(
    server: tuple[str, Served], tmp_path: Path
) -> None:
    url, served = server
    served.body = b"new" * 30_000
    (tmp_path / "b.zip.part").write_bytes(b"old" * 10_000)
    (tmp_path / "b.zip.part.validator").write_text('"an-older-etag"')

    path = bundle_download(url=f"{url}/bundles/b.zip", directory=tmp_path, client=_client())

    assert path.read_bytes() == served.body


def test_a_missing_bundle_is_a_permanent_error(server: tuple[str, Served], tmp_path: Path) -> None:
    url, _ = server
    with pytest.raises(NotFoundError):
        bundle_download(url=f"{url}/nothing.zip", directory=tmp_path, client=_client())


def test_import_bundle_from_a_url_resumes_a_cut_download_and_applies_it(
    server: tuple[str, Served], bundle_env: Path
) -> None:
    url, served = server
    publish_gallery(performers=3, faces_each=2)
    graph, faces = graph_state(), face_state()
    export = bundle_export(destination=bundle_env / "published.zip")
    consumer_wipe()
    served.body = Path(export.path).read_bytes()
    served.cut_after = [len(served.body) // 3]
    downloads = bundle_env / "downloads"

    call_command("import_bundle", f"{url}/bundles/published.zip", download_dir=downloads)

    assert [r.get("Range") is not None for r in served.requests] == [False, True]
    assert (downloads / "published.zip").read_bytes() == served.body
    assert graph_state() == graph and face_state() == faces
    assert IndexBuild.objects.filter(active=True).count() == 1
