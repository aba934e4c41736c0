from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from bundles.download import bundle_download, is_url
from bundles.feed_updates import bundle_feed_update
from bundles.importer import bundle_import
from bundles.models import BundleImport
from stashsense.errors import ApplicationError
from stashsense.http import OutboundError


class Command(BaseCommand):
    help = (
        "Import a gallery bundle from a file or an http(s) URL (downloads resume). Every "
        "checksum and the profile are checked first; the gallery switches in one step."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", help="Bundle file path or http(s) URL.")
        parser.add_argument(
            "--from-feed",
            nargs="?",
            const="",
            default=None,
            metavar="FEED_URL",
            help="Apply every bundle the feed offers since the installed version, all or "
            "nothing (default feed: STASHSENSE_BUNDLE_FEED).",
        )
        parser.add_argument("--profile", default=None)
        parser.add_argument(
            "--download-dir",
            type=Path,
            default=None,
            help="Where URL downloads go (default: <data dir>/bundles).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bars: dict[str, tqdm[Any]] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            bar = bars.get(stage)
            if bar is None:
                bytes_stage = stage in ("download", "verify")
                bar = bars[stage] = tqdm(
                    desc=stage,
                    unit="B" if bytes_stage else "item",
                    unit_scale=bytes_stage,
                    disable=not self.stdout.isatty(),
                )
            bar.total = total
            bar.n = done
            bar.refresh()

        source: str | None = options["source"]
        if (source is None) == (options["from_feed"] is None):
            raise CommandError("Give a bundle file or URL, or --from-feed (not both).")
        try:
            if options["from_feed"] is not None:
                self._from_feed(options, progress)
                return
            assert source is not None
            path = self._local_path(source, options["download_dir"], progress)
            record = bundle_import(
                path=path, profile=options["profile"], origin=source, progress=progress
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except OutboundError as error:
            raise CommandError(f"Download failed: {error} (run again to resume)") from error
        except OSError as error:  # the disk, not the network: a full disk is no reason to retry
            raise CommandError(f"File error: {error}") from error
        finally:
            for bar in bars.values():
                bar.close()
        self._applied(record)

    def _from_feed(self, options: dict[str, Any], progress: Any) -> None:
        update = bundle_feed_update(
            feed_url=options["from_feed"] or None,
            profile=options["profile"],
            download_dir=options["download_dir"],
            progress=progress,
        )
        for number, record in enumerate(update.applied, start=1):
            self._applied(record, active=number == len(update.applied))
        if not update.applied:
            self.stdout.write(f"up to date: bundle {update.installed or '(none)'} is the newest")
        else:
            self.stdout.write(f"gallery updated from the feed to bundle {update.installed}")

    def _applied(self, record: BundleImport, *, active: bool = True) -> None:
        counts = record.counts
        base = f" on top of {record.base_version}" if record.base_version else ""
        build = record.index_build
        self.stdout.write(
            f"applied {record.kind} bundle {record.version}{base} ({record.profile}): "
            f"{counts.get('performers_created', 0)} performers new, "
            f"{counts.get('performers_updated', 0)} updated, "
            f"{counts.get('faces_created', 0)} faces new, {counts.get('faces_updated', 0)} updated, "
            f"{counts.get('faces_deleted', 0)} deleted"
            + (
                f"; index #{build.pk if build else '-'} with {build.faces if build else 0} "
                "faces is active"
                if active
                else ""
            )
        )

    def _local_path(self, source: str, directory: Path | None, progress: Any) -> Path:
        if not is_url(source):
            path = Path(source)
            if not path.is_file():
                raise CommandError(f"{path} is not a file")
            return path
        return bundle_download(
            url=source,
            directory=directory or Path(settings.DATA_DIR) / "bundles",
            progress=lambda done, total: progress("download", done, total),
        )
