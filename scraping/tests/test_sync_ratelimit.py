"""A source's rate limit holds across workers: two processes share its Redis token bucket.

Each process builds the sync's own clients (`scraping.sync.clients.clients_for`) for the same
source and pages the fake as fast as it may; together they must not go faster than the
source's requests per minute (after the bucket's one-second burst).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from fakes import FakeStashBox
from scraping.tests.test_sync_support import REPO_ROOT, needs_specs

pytestmark = [needs_specs, pytest.mark.redis, pytest.mark.slow]

RPM = 240  # 4 per second, burst 4
PER_WORKER = 6


# Runs in each worker process (`manage.py shell -c`): page the source PER_WORKER times
# through the sync's clients, starting at the same wall-clock moment as the other worker.
WORKER = """
import json, time
from performers.models import Source
from scraping.sync.clients import clients_for
fields, start_at, count = json.loads({args!r})
clients = clients_for(Source(**fields))
time.sleep(max(0.0, start_at - time.time()))
started = time.time()
for _ in range(count):
    clients.upstream.list_performers(1, 1, pass_number=None)
print(json.dumps([started, time.time()]))
"""


def test_two_worker_processes_together_stay_under_the_sources_rate(
    redis_server: str, box: FakeStashBox
) -> None:
    import redis

    shared_url = redis_server.rsplit("/", 1)[0] + "/15"
    redis.Redis.from_url(shared_url).flushdb()
    box.add_generated_performers(1)
    fields = {
        "name": f"rate-{uuid.uuid4().hex[:8]}",
        "kind": "stashbox",
        "url": box.endpoint,
        "api_key": box.api_key,
        "requests_per_minute": RPM,
    }
    code = WORKER.format(args=json.dumps([fields, time.time() + 6, PER_WORKER]))
    env = {**os.environ, "REDIS_URL": shared_url}
    workers = [
        subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "manage.py"), "shell", "-c", code],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    spans = []
    for process in workers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        spans.append(json.loads(out.strip().splitlines()[-1]))

    requests = box.request_count("/graphql")
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    assert requests == 2 * PER_WORKER
    burst, per_second = RPM // 60, RPM / 60
    # Alone, one worker would be done in (6 - 4) / 4 = 0.5 s; sharing, both need (12 - 4) / 4.
    assert elapsed >= (requests - burst) / per_second * 0.9
    assert requests / elapsed <= per_second * 1.5
