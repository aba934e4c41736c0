"""Real HTTP servers on 127.0.0.1 that stand in for upstreams in tests (no patching needed).

- `FakeHttpServer`: routes, request log, fault injection (`fail_next`, `rate_limit_next`,
  `slow_next`, `truncate_next`); the base of the others.
- `FakeStashBox`: executes the real stash-box schema over fixture performers and images.
- `FakeThePornDB`: ThePornDB's performer REST endpoints.

All are context managers binding a random port: `with FakeStashBox() as box: box.endpoint`.
"""

from scraping.tests.fakes.server import CannedResponse, FakeHttpServer, RecordedRequest
from scraping.tests.fakes.stashbox import (
    DEFAULT_API_KEY,
    FakeImage,
    FakeStashBox,
    build_stashbox_schema,
    stashbox_schema_dir,
    stashbox_schema_files,
)
from scraping.tests.fakes.theporndb import TOO_MANY_ATTEMPTS, FakeThePornDB

__all__ = [
    "DEFAULT_API_KEY",
    "TOO_MANY_ATTEMPTS",
    "CannedResponse",
    "FakeHttpServer",
    "FakeImage",
    "FakeStashBox",
    "FakeThePornDB",
    "RecordedRequest",
    "build_stashbox_schema",
    "stashbox_schema_dir",
    "stashbox_schema_files",
]
