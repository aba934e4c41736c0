"""`manage.py bench_bundle run --faces 20000 100000`: bundle export and import, time and memory.

`run` drives the whole benchmark in scratch data folders (one JSON object per size); the other
subcommands are its steps, each run in a process of its own on the configured database.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bundles.benchmarks.bundle import Phase, run_phase, size_run
from stashsense.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Benchmark gallery bundles on synthetic galleries: export and import time and peak "
        "memory per size (run), or one step of it on the configured database."
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
        steps.add_parser("index", help="build the index of the configured database")
        export = steps.add_parser("export", help="export a full bundle")
        export.add_argument("--out", type=Path, required=True)
        imported = steps.add_parser("import", help="import a bundle")
        imported.add_argument("--path", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["step"] == "run":
                self._run(options["faces"], options["postgres"], options["workdir"])
            else:
                self._print(run_phase(self._phase(options)))
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except RuntimeError as error:  # a step's process failed; its stderr is in the message
            raise CommandError(str(error)) from error

    def _run(self, sizes: list[int], postgres: str | None, workdir: Path | None) -> None:
        if min(sizes) < 1:
            raise CommandError("--faces must be positive")
        with tempfile.TemporaryDirectory(prefix="bundle-bench-") as scratch:
            for faces in sizes:
                self._print(size_run(faces, postgres, workdir or Path(scratch)))

    @staticmethod
    def _phase(options: dict[str, Any]) -> Phase:
        return Phase(
            name=options["step"],
            faces=options.get("faces") or 0,
            performers=options.get("performers") or 1000,
            out=options.get("out"),
            path=options.get("path"),
        )

    def _print(self, result: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(result))
        self.stdout.flush()
