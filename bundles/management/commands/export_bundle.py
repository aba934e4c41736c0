from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from bundles.export import bundle_export
from bundles.feed import FEED_NAME
from bundles.feed_publish import bundle_feed_publish
from stashsense.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Write the gallery of a profile as one bundle file (OUT: a file, or a folder to name it "
        "in); with --since VERSION, only what changed since that export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--since", default=None, help="Version of an earlier export.")
        parser.add_argument("--profile", default=None)
        parser.add_argument(
            "--feed",
            nargs="?",
            const="",
            default=None,
            type=str,
            metavar="FEED.json",
            help="Add the bundle to a feed file (default: feed.json beside the bundle), for "
            "consumers whose STASHSENSE_BUNDLE_FEED points at it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bars: dict[str, tqdm[Any]] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(
                    desc=stage,
                    unit=stage[:-1] if stage.endswith("s") else "face",
                    disable=not self.stdout.isatty(),
                )
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            export = bundle_export(
                destination=options["out"],
                since=options["since"],
                profile=options["profile"],
                progress=progress,
            )
            feed = (
                bundle_feed_publish(
                    export=export, feed_path=Path(options["feed"]) if options["feed"] else None
                )
                if options["feed"] is not None
                else None
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        finally:
            for bar in bars.values():
                bar.close()
        counts = export.counts
        base = f" since {export.base_version}" if export.base_version else ""
        deletions = (
            f", {counts.get('deleted_performers', 0)} performers and "
            f"{counts.get('deleted_faces', 0)} faces deleted"
            if export.base_version
            else ""
        )
        size = Path(export.path).stat().st_size / 1024 / 1024
        self.stdout.write(
            f"{export.kind} bundle {export.version}{base} ({export.profile}): "
            f"{counts.get('performers', 0)} performers, {counts.get('faces', 0)} faces"
            f"{deletions}; {size:.1f} MiB → {export.path} (sha256 {export.sha256})"
        )
        if feed is not None:
            feed_file = Path(options["feed"] or Path(export.path).parent / FEED_NAME)
            self.stdout.write(f"feed {feed_file}: {len(feed.entries)} bundles listed")
