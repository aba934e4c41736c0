from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from recognition.index import IndexParams
from recognition.services import index_build


class Command(BaseCommand):
    help = "Build the face index of a profile from the stored embeddings and make it active."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--profile", default=None)
        parser.add_argument("--kind", choices=["auto", "hnsw", "exact"], default="auto")
        parser.add_argument("--storage", choices=["float32", "e4m3"], default="float32")

    def handle(self, *args: Any, **options: Any) -> None:
        bar = tqdm(unit="face", disable=not self.stdout.isatty())

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        build = index_build(
            profile=options["profile"],
            params=IndexParams(kind=options["kind"], storage=options["storage"]),
            progress=progress,
        )
        bar.close()
        self.stdout.write(
            f"index #{build.pk} ({build.profile}, {build.params.get('kind')}): {build.faces} faces of "
            f"{build.performers} performers in {build.params.get('seconds')} s → {build.path}"
        )
