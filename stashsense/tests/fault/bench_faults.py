"""Fault benchmark: prints peak RSS of the worst request, the first answer after a restart with
300k faces, and p99 / 503 share at twice the inference concurrency.

    python -m stashsense.tests.fault.bench_faults [--faces 300000] [--requests 40]

Run with the test settings (`make fault-bench`). It builds its own stack (a temporary data
directory; a throwaway PostgreSQL database when DATABASE_URL is PostgreSQL), serves it with
gunicorn as `make run` does and measures over loopback. Numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stashsense.settings")
django.setup()

from PIL import Image  # noqa: E402

from stashsense.http import OutboundClient, OutboundError  # noqa: E402
from stashsense.tests.fault.conftest import GALLERY, PROBES  # noqa: E402
from stashsense.tests.fault.stack import (  # noqa: E402
    FACES,
    STACK_API_KEY,
    Server,
    Stack,
    enroll,
    gunicorn,
    log_tail,
    process_stop,
    stack_create,
    stack_database,
)
from stashsense.tests.own_redis import free_port  # noqa: E402

INFERENCE_CONCURRENCY = 2
HEADERS = {"Authorization": f"Api-Key {STACK_API_KEY}"}


def _post(client: OutboundClient, url: str, body: dict[str, object]) -> tuple[int, float]:
    """(status, seconds) of one POST; error statuses are answers too."""
    started = time.perf_counter()
    try:
        status = client.post(url, json=body, headers=HEADERS).status
    except OutboundError as error:
        status = error.status or 0
    return status, time.perf_counter() - started


def _probe_body(path: str) -> dict[str, object]:
    return {"image_base64": base64.b64encode((FACES / path).read_bytes()).decode()}


def _sprite_request(cues: int) -> dict[str, object]:
    """A 9x9 sprite of 160x90 tiles made of gallery photos, and a VTT of `cues` cues."""
    photos = [FACES / path for path in PROBES] * 17
    sprite = Image.new("RGB", (160 * 9, 90 * 9))
    for n, photo in enumerate(photos[:81]):
        picture = Image.open(photo).convert("RGB").resize((160, 90))
        sprite.paste(picture, ((n % 9) * 160, (n // 9) * 90))
    buffer = io.BytesIO()
    sprite.save(buffer, "JPEG", quality=90)
    lines = ["WEBVTT", ""]
    for n in range(cues):
        tile = n % 81
        start, end = n * 5, n * 5 + 5
        lines += [
            f"00:{start // 60:02d}:{start % 60:02d}.000 --> 00:{end // 60:02d}:{end % 60:02d}.000",
            f"s_sprite.jpg#xywh={(tile % 9) * 160},{(tile // 9) * 90},160,90",
            "",
        ]
    return {"sprite_base64": base64.b64encode(buffer.getvalue()).decode(), "vtt": "\n".join(lines)}


def _worker_pid(server: Server) -> int:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text()
    return int(children.split()[0])


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_peak_rss(server: Server) -> None:
    pid = _worker_pid(server)
    with OutboundClient(timeout=(5, 600), retries=0, max_bytes=50 * 1024 * 1024) as client:
        _post(client, f"{server.url}/api/v1/identify", _probe_body(next(iter(PROBES))))
        before = _peak_rss_mib(pid)
        results = []
        for cues in (81, 200):  # a full sprite; the most cues STASHSENSE_MAX_FRAMES allows
            status, seconds = _post(
                client, f"{server.url}/api/v1/identify/scene", _sprite_request(cues)
            )
            results.append(f"{cues} cues: HTTP {status} in {seconds:.1f} s")
    after = _peak_rss_mib(pid)
    print(
        f"peak RSS of the worst scene request: {after:.0f} MiB (worker after one identify: "
        f"{before:.0f} MiB; +{after - before:.0f} MiB) [{'; '.join(results)}]"
    )


def _restarted(stack: Stack) -> tuple[Server, float]:
    """gunicorn started afresh on a fixed free port; (server, seconds until it listens)."""
    port = free_port()
    log = stack.data_dir / "restart.log"
    started = time.perf_counter()
    process = stack.spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "stashsense.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--timeout",
            "300",
            "--no-control-socket",
        ],
        log,
    )
    url = f"http://127.0.0.1:{port}"
    with OutboundClient(timeout=(1, 10), retries=0) as probe:
        while time.perf_counter() - started < 300:
            with suppress(OutboundError):
                probe.get(f"{url}/api/v1/health")
                break
            time.sleep(0.2)
    return Server(url=url, process=process, log=log), time.perf_counter() - started


def bench_restart(stack: Stack, faces: int) -> None:
    """300k faces in the database, an index file of the small gallery: restart, first answers."""
    started = time.perf_counter()
    stack.python("stashsense.tests.fault.synthetic_gallery", str(faces), timeout=1800)
    print(f"  ({faces} synthetic faces inserted in {time.perf_counter() - started:.0f} s)")
    server, healthy = _restarted(stack)
    restarted = time.perf_counter() - healthy
    statuses = []
    try:
        with OutboundClient(timeout=(5, 600), retries=0) as client:
            url = f"{server.url}/api/v1/identify"
            first_status, first_seconds = _post(client, url, _probe_body(next(iter(PROBES))))
            first_answer = time.perf_counter() - restarted
            status = first_status
            while status != 200 and time.perf_counter() - restarted < 900:
                time.sleep(1)
                status, _ = _post(client, url, _probe_body(next(iter(PROBES))))
                statuses.append(status)
            identified = time.perf_counter() - restarted
    finally:
        process_stop(server.process)
    print(
        f"restart with {faces} faces not in the index file: health answered {healthy:.1f} s "
        f"after start; first identify answered HTTP {first_status} in {first_seconds:.1f} s "
        f"({first_answer:.1f} s after start); first HTTP {status} {identified:.1f} s after "
        f"start (answers meanwhile: {sorted(set(statuses))})"
    )
    if status != 200:
        print(log_tail(server.log, 3000))


def bench_overload(server: Server, requests: int) -> None:
    concurrency = 2 * INFERENCE_CONCURRENCY
    bodies = [_probe_body(path) for path in PROBES]
    with (
        OutboundClient(timeout=(5, 600), retries=0, pool_size=concurrency) as client,
        ThreadPoolExecutor(max_workers=concurrency) as pool,
    ):
        answers = list(
            pool.map(
                lambda n: _post(client, f"{server.url}/api/v1/identify", bodies[n % len(bodies)]),
                range(requests),
            )
        )
    latencies = sorted(seconds for _, seconds in answers)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    refused = sum(1 for status, _ in answers if status == 503)
    others = sorted({status for status, _ in answers} - {200, 503})
    print(
        f"{requests} identifies at concurrency {concurrency} (2x {INFERENCE_CONCURRENCY} slots): "
        f"p50 {statistics.median(latencies):.2f} s, p99 {p99:.2f} s, "
        f"503 share {refused / requests:.0%}" + (f", other statuses {others}" if others else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--only-restart", action="store_true", help="skip RSS and overload")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, stack_database("bench") as database:
        stack = stack_create(
            Path(directory) / "stack",
            STASHSENSE_INFERENCE_CONCURRENCY=str(INFERENCE_CONCURRENCY),
            **database,
        )
        enroll(stack, GALLERY)
        if not arguments.only_restart:
            with gunicorn(stack, threads=8) as server:
                bench_peak_rss(server)
                bench_overload(server, arguments.requests)
        with suppress(KeyboardInterrupt):
            bench_restart(stack, arguments.faces)


if __name__ == "__main__":
    main()
