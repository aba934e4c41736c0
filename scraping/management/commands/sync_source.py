"""`manage.py sync_source NAME [--full] [--max-performers N] [--no-images] [--async]`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from performers.models import Source
from recognition.services import index_update
from scraping.choices import RunStatus
from scraping.models import SyncRun
from scraping.services import sync_run_enqueue, sync_run_execute, sync_run_for
from stashsense.errors import ApplicationError
from stashsense.http import TransientError


class Command(BaseCommand):
    help = (
        "Sync performers (and their photos → faces) from a source. Incremental by default; "
        "an interrupted run of the same kind is resumed from where it stopped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="The source's name (see source_add).")
        parser.add_argument(
            "--full", action="store_true", help="Every performer, not just changes."
        )
        parser.add_argument("--max-performers", type=int, default=None)
        parser.add_argument("--no-images", action="store_true", help="Metadata only, no photos.")
        parser.add_argument("--max-photos", type=int, default=5, help="Photos per performer.")
        parser.add_argument("--page-size", type=int, default=None)
        parser.add_argument(
            "--async", action="store_true", dest="queue", help="Queue it for a Celery worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = Source.objects.filter(name=options["name"]).first()
        if source is None:
            raise CommandError(f"No source named {options['name']!r} (see source_add).")
        run_options = {
            "full": options["full"],
            "images": not options["no_images"],
            "max_photos": options["max_photos"],
            "max_performers": options["max_performers"],
            "page_size": options["page_size"],
        }
        try:
            if options["queue"]:
                run = sync_run_enqueue(source=source, **run_options)
                self.stdout.write(f"Queued {run.kind} sync run #{run.pk} of {source.name}.")
                return
            run, resumed = sync_run_for(source=source, **run_options)
            if resumed:
                self.stdout.write(f"Resuming {run.kind} sync run #{run.pk} of {source.name}.")
            run = self._execute(run)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except TransientError as error:
            raise CommandError(f"{error} — run the command again to resume.") from error
        if run.status != RunStatus.DONE:
            raise CommandError(f"Sync run #{run.pk} {run.get_status_display()}: {run.last_error}")
        summary = _summary(run)
        if run.faces:
            # The run also queued this for a worker; in-process, the index is ready on return.
            build = index_update()
            summary += f" The index holds {build.faces if build else 0} faces."
        self.stdout.write(self.style.SUCCESS(summary))

    def _execute(self, run: SyncRun) -> SyncRun:
        bar = tqdm(unit="performer", disable=not self.stdout.isatty(), desc=run.source.name)

        def progress(done: int, total: int) -> None:
            bar.total = total or None
            bar.n = done
            bar.refresh()

        try:
            return sync_run_execute(run=run, progress=progress)
        finally:
            bar.close()


def _summary(run: SyncRun) -> str:
    unchanged = int(run.cursor.get("skipped", 0))
    return (
        f"Synced {run.source.name} ({run.kind} run #{run.pk}): {run.performers_new} new, "
        f"{run.performers_updated} updated, {unchanged} unchanged, "
        f"{run.performers_deleted} deleted; {run.photos} photos, {run.faces} faces; "
        f"{run.pages} pages, {run.errors} errors."
    )
