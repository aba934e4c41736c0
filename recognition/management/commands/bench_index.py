from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.benchmarks.index import IndexBenchmark, run_index_benchmark
from recognition.benchmarks.synthetic_gallery import (
    GallerySpec,
    SyntheticGallery,
    pair_distance_summary,
)
from recognition.index import DEFAULT_EF_CONSTRUCTION, DEFAULT_EF_SEARCH, DEFAULT_M


def _ef_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise CommandError(f"--ef takes comma-separated integers, got {text!r}") from error
    if not values or min(values) < 1:
        raise CommandError("--ef needs at least one positive integer")
    return values


class Command(BaseCommand):
    help = (
        "Benchmark the gallery index on a synthetic gallery shaped like dlib's: build rate, "
        "memory, query latency, recall and identity agreement with exact search (JSON lines)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--n", type=int, default=100_000, help="faces in the gallery")
        parser.add_argument("--dim", type=int, default=128)
        parser.add_argument("--metric", choices=["l2", "cosine"], default="l2")
        parser.add_argument("--queries", type=int, default=1000)
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--M", type=int, default=DEFAULT_M)
        parser.add_argument("--ef-construction", type=int, default=DEFAULT_EF_CONSTRUCTION)
        parser.add_argument(
            "--ef",
            default=f"128,256,{DEFAULT_EF_SEARCH},512",
            help="search depths, comma-separated",
        )
        parser.add_argument("--storage", choices=["float32", "e4m3"], default="float32")
        parser.add_argument("--exact", action="store_true", help="measure exact search only")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--index-file",
            type=Path,
            help="save the built HNSW index here, or load it if the file exists",
        )
        parser.add_argument(
            "--distances", action="store_true", help="also print the generator's pair distances"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["n"] < 1 or options["queries"] < 1:
            raise CommandError("--n and --queries must be positive")
        spec = GallerySpec(
            faces=options["n"], dim=options["dim"], metric=options["metric"], seed=options["seed"]
        )
        if options["distances"]:
            summary = pair_distance_summary(SyntheticGallery(spec))
            self._print({"record": "pair_distances", **summary})
        bench = IndexBenchmark(
            spec=spec,
            queries=options["queries"],
            k=options["k"],
            M=options["M"],
            ef_construction=options["ef_construction"],
            ef_search=_ef_list(options["ef"]),
            storage=options["storage"],
            hnsw=not options["exact"],
            index_file=options["index_file"],
        )
        for record in run_index_benchmark(bench):
            self._print(record)

    def _print(self, record: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(record))
        self.stdout.flush()
