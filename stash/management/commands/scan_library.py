"""`manage.py scan_library [--mode sprite|video|auto] [--only-without-performers] [--max-scenes N]
[--async]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from stash.choices import SceneScanStatus
from stash.client import StashError
from stash.library_scans import (
    DEFAULT_SCAN_MODE,
    PAGE_SIZE,
    SCAN_MODES,
    scene_scan_enqueue,
    scene_scan_execute,
    scene_scan_for,
)
from stash.models import SceneScan
from stashsense.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Identify every scene of the Stash library (STASH_URL) from its sprite (or its video: "
        "--mode) and store the suggestions, which the plugin then shows at once. An interrupted scan with the same "
        "options is resumed where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only-without-performers",
            action="store_true",
            help="Only scenes that have no performer yet.",
        )
        parser.add_argument(
            "--only-new", action="store_true", help="Skip scenes that already have suggestions."
        )
        parser.add_argument(
            "--max-scenes",
            type=int,
            default=None,
            help="Stop after N scenes (carry on later with --only-new).",
        )
        parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
        parser.add_argument(
            "--mode",
            choices=SCAN_MODES,
            default=DEFAULT_SCAN_MODE,
            help="sprite (default: ~10k scenes a night on 2 cores), video (60 frames from the "
            "stream) or auto (sprite, then video frames until everyone is settled); per-scene "
            "costs are in the README.",
        )
        parser.add_argument(
            "--async", action="store_true", dest="queue", help="Queue it for a Celery worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scan_options = {
            "only_without_performers": options["only_without_performers"],
            "only_new": options["only_new"],
            "max_scenes": options["max_scenes"],
            "per_page": options["page_size"],
            "mode": options["mode"],
        }
        try:
            if options["queue"]:
                scan = scene_scan_enqueue(**scan_options)
                self.stdout.write(f"Queued library scan #{scan.pk}.")
                return
            scan, resumed = scene_scan_for(**scan_options)
            if resumed:
                self.stdout.write(
                    f"Resuming library scan #{scan.pk} ({scan.processed} scenes done)."
                )
            scan = self._execute(scan)
        except StashError as error:  # before ApplicationError, which it is
            raise CommandError(f"{error} — run the command again to resume.") from error
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if scan.status != SceneScanStatus.DONE:
            raise CommandError(f"Library scan #{scan.pk} {scan.status}: {scan.last_error}")
        self.stdout.write(self.style.SUCCESS(_summary(scan)))

    def _execute(self, scan: SceneScan) -> SceneScan:
        bar = tqdm(unit="scene", disable=not self.stdout.isatty(), desc="Stash scenes")

        def progress(current: SceneScan) -> None:
            bar.total = current.target or None
            bar.n = current.processed
            bar.refresh()

        try:
            return scene_scan_execute(scan=scan, progress=progress)
        finally:
            bar.close()


def _summary(scan: SceneScan) -> str:
    reasons = ", ".join(f"{reason}: {count}" for reason, count in scan.skip_reasons.items())
    limited = " (stopped at --max-scenes)" if scan.processed < scan.total else ""
    return (
        f"Library scan #{scan.pk}: {scan.identified} scenes identified, {scan.skipped} skipped"
        f"{f' ({reasons})' if reasons else ''}, {scan.errors} errors; {scan.persons} people "
        f"seen; {scan.total} scenes in Stash{limited}."
    )
