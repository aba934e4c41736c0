"""`FakeBundleFeed`: a publisher's web server, serving a folder of bundles and its feed.json.

    with FakeBundleFeed(folder) as feed:
        feed.feed_url      # http://127.0.0.1:PORT/gallery/feed.json
        feed.override("b1.zip", b"...")   # serve other bytes under a name (a corrupt file)

Files are read from the folder at each request, so a test may publish more as it goes. Range
requests are answered like a static file server (206 with Content-Range).
"""

from __future__ import annotations

import re
from pathlib import Path

from fakes.server import CannedResponse, FakeHttpServer, RecordedRequest

PREFIX = "/gallery/"
_RANGE = re.compile(r"bytes=(\d+)-")


class FakeBundleFeed(FakeHttpServer):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self._overrides: dict[str, bytes] = {}

    @property
    def feed_url(self) -> str:
        return f"{self.url}{PREFIX}feed.json"

    def override(self, name: str, body: bytes) -> None:
        self._overrides[name] = body

    def handle(self, request: RecordedRequest) -> CannedResponse:
        if request.method not in ("GET", "HEAD") or not request.path.startswith(PREFIX):
            return CannedResponse(404, b"not found")
        name = request.path[len(PREFIX) :]
        body = self._overrides.get(name)
        if body is None:
            path = self.folder / name
            if "/" in name or name.startswith(".") or not path.is_file():
                return CannedResponse(404, b"not found")
            body = path.read_bytes()
        kind = "application/json" if name.endswith(".json") else "application/zip"
        wanted = _RANGE.fullmatch(request.headers.get("range", ""))
        if wanted and int(wanted.group(1)) < len(body):
            start = int(wanted.group(1))
            headers = {
                "Content-Type": kind,
                "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}",
            }
            return CannedResponse(206, body[start:], headers)
        return CannedResponse(200, body, {"Content-Type": kind})
