"""`manage.py bench_sync`: sync throughput and memory against the local fake; prints JSON."""

from __future__ import annotations

import json
import statistics
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from scraping.benchmarks.sync import FACES, bench_faces, bench_memory, scratch_database


class Command(BaseCommand):
    help = (
        "Benchmark the sync against the local fake stash-box (no rate limit), in a throwaway "
        "database: faces embedded per second with W worker processes, and resident memory "
        "over a full sync of many performers without photos. Prints one JSON line each."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--workers", type=int, nargs="+", default=[2])
        parser.add_argument("--photo-performers", type=int, default=60)
        parser.add_argument("--photos", type=int, default=2, help="Photos per performer.")
        parser.add_argument("--ort-threads", type=int, default=1, help="Per worker process.")
        parser.add_argument(
            "--repeat", type=int, default=1, help="Faces runs per worker count (then a median)."
        )
        parser.add_argument("--performers", type=int, default=20_000, help="For the memory run.")
        parser.add_argument("--page-size", type=int, default=100)
        parser.add_argument("--only", choices=["faces", "memory"], default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["only"] != "memory" and not FACES.is_dir():
            raise CommandError(f"The faces benchmark needs the photos at {FACES}.")
        # Each measurement in a database of its own: runs must not see each other's galleries.
        if options["only"] in (None, "faces"):
            for workers in options["workers"]:
                rates = []
                for _ in range(options["repeat"]):
                    with scratch_database():
                        result = bench_faces(
                            performers=options["photo_performers"],
                            photos_each=options["photos"],
                            workers=workers,
                            ort_threads=options["ort_threads"],
                        )
                    self._print(result)
                    rates.append(result["faces_per_second"] or 0.0)
                if len(rates) > 1:
                    self._print(
                        {
                            "bench": "faces_summary",
                            "workers": workers,
                            "runs": len(rates),
                            "faces_per_second_median": round(statistics.median(rates), 2),
                            "faces_per_second_min": min(rates),
                            "faces_per_second_max": max(rates),
                        }
                    )
        if options["only"] in (None, "memory"):
            with scratch_database():
                result = bench_memory(
                    performers=options["performers"], page_size=options["page_size"]
                )
            self._print(result)

    def _print(self, result: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(result))
        self.stdout.flush()
