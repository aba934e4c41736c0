"""Fake upstream servers on 127.0.0.1 that follow the real schemas, for tests and benchmarks.

Real HTTP servers, not patches of our client: the code under test or under measurement talks
to them over sockets exactly as it talks to the real upstreams. Used by every app's tests and
by the benchmark commands (`manage.py bench_sync` syncs from a `FakeStashBox`).

- `FakeHttpServer`: routes, request log, fault injection (`fail_next`, `rate_limit_next`,
  `slow_next`, `truncate_next`); the base of the others.
- `FakeStashBox`: executes the real stash-box schema (`../shared/specs/stash-box`, graphql-core)
  over fixture performers and images.
- `FakeThePornDB`: ThePornDB's performer REST endpoints.
- `FakeBundleFeed`: a publisher's static server of bundles and their `feed.json`.
- `fakes.stash_server.FakeStash`: executes Stash's own schema (`../shared/specs/stash`).

All are context managers binding a random port: `with FakeStashBox() as box: box.endpoint`.

This package imports no app of ours (only the standard library and graphql-core): it stands
for the outside world, so it must not know our code, and any app or test may import it.
"""

from fakes.bundle_feed import FakeBundleFeed
from fakes.server import CannedResponse, FakeHttpServer, RecordedRequest
from fakes.stashbox import (
    DEFAULT_API_KEY,
    FakeImage,
    FakeStashBox,
    build_stashbox_schema,
    stashbox_schema_dir,
    stashbox_schema_files,
)
from fakes.theporndb import TOO_MANY_ATTEMPTS, FakeThePornDB

__all__ = [
    "DEFAULT_API_KEY",
    "TOO_MANY_ATTEMPTS",
    "CannedResponse",
    "FakeBundleFeed",
    "FakeHttpServer",
    "FakeImage",
    "FakeStashBox",
    "FakeThePornDB",
    "RecordedRequest",
    "build_stashbox_schema",
    "stashbox_schema_dir",
    "stashbox_schema_files",
]
