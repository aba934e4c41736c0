"""`manage.py resolve_identities [--source NAME] [--dry-run] [--check-faces]`."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from curation.face_distances import thresholds_for
from curation.resolution.decisions import Decision, SourceHosts, pair_key
from curation.resolution.face_search import face_search_for
from curation.selectors import performers_to_resolve
from curation.services import identity_resolve_performer, performer_check_outliers
from performers.models import Performer, Source
from recognition.configured_profile import serving_profile


class Command(BaseCommand):
    help = (
        "Link performers that are the same person: strong evidence merges, weaker evidence "
        "opens review items. --dry-run only prints what it would do."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--source", help="Only performers with a stash ID from this source.")
        parser.add_argument("--dry-run", action="store_true", help="Change nothing; print only.")
        parser.add_argument(
            "--check-faces",
            action="store_true",
            help="Also flag faces unlike the rest of their performer's gallery.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = None
        if options["source"]:
            source = Source.objects.filter(name=options["source"]).first()
            if source is None:
                raise CommandError(f"No source named {options['source']!r}.")
        dry_run: bool = options["dry_run"]
        profile = serving_profile()
        search = face_search_for(profile=profile, metric=thresholds_for(profile).metric)
        hosts = SourceHosts.load()
        ids = performers_to_resolve(source=source)
        seen: set[str] = set()
        merged = suggested = flagged = checked = 0
        for performer_id in tqdm(
            ids.iterator(chunk_size=1000),
            total=ids.count(),
            unit="performer",
            disable=not sys.stderr.isatty(),
        ):
            performer = Performer.objects.filter(pk=performer_id).first()
            if performer is None:
                continue  # merged into an earlier one during this run
            checked += 1
            outcome = identity_resolve_performer(
                performer=performer, dry_run=dry_run, search=search, hosts=hosts
            )
            for decision in outcome.decisions:
                key = pair_key(decision.performer.pk, decision.other.pk)
                if key in seen:
                    continue  # a dry run meets every pair from both sides
                seen.add(key)
                self.stdout.write(self._line(decision, dry_run))
                if decision.action == "merge":
                    merged += 1
                else:
                    suggested += 1
            if options["check_faces"] and not dry_run:
                survivor = Performer.objects.filter(pk=outcome.performer_id).first()
                if survivor is not None:
                    flagged += len(performer_check_outliers(performer=survivor, profile=profile))
        verb = "would merge" if dry_run else "merged"
        summary = (
            f"Resolved {checked} performers: {verb} {merged} pairs, "
            f"{'would suggest' if dry_run else 'suggested'} {suggested} for review"
        )
        if options["check_faces"] and not dry_run:
            summary += f", flagged {flagged} faces"
        self.stdout.write(self.style.SUCCESS(summary + (" (dry run)." if dry_run else ".")))

    def _line(self, decision: Decision, dry_run: bool) -> str:
        action = decision.action.upper()
        if dry_run:
            action = f"WOULD {action}"
        pair = f"{decision.performer} [{decision.performer.pk}] + {decision.other} [{decision.other.pk}]"
        notes = f" (held back: {'; '.join(decision.notes)})" if decision.notes else ""
        return (
            f"{action} {pair}: {decision.strongest.label}, score {decision.score:.2f}: "
            f"{decision.strongest.summary}{notes}"
        )
