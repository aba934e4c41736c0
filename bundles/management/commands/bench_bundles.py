"""`manage.py bench_bundles`: bundle export and import time and memory; prints JSON."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bundles.benchmarks import bundle_phase, size_run


class Command(BaseCommand):
    help = (
        "run: for each --faces size, fill a publisher with synthetic faces, index, export a "
        "full bundle and import it into a consumer, each step in a process of its own; one "
        "JSON line per size. fill, index, export, import: that one step, on the database the "
        "environment points at."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        steps = parser.add_subparsers(dest="step", required=True)
        run = steps.add_parser("run", help="benchmark export and import at each size")
        run.add_argument("--faces", type=int, nargs="+", default=[20_000, 100_000])
        run.add_argument("--postgres", default=None, help="postgres://user@host:port/any-db")
        run.add_argument("--workdir", type=Path, default=None)
        fill = steps.add_parser("fill", help="fill the configured database with faces")
        fill.add_argument("--faces", type=int, required=True)
        fill.add_argument("--performers", type=int, default=1000)
        steps.add_parser("index")
        steps.add_parser("export").add_argument("--out", required=True)
        steps.add_parser("import").add_argument("--path", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["step"] != "run":
            self._print(bundle_phase(options["step"], options))
            return
        with tempfile.TemporaryDirectory(prefix="bundle-bench-") as scratch:
            workdir = options["workdir"] or Path(scratch)
            for faces in options["faces"]:
                self._print(size_run(faces, options["postgres"], workdir))

    def _print(self, result: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(result))
        self.stdout.flush()
