from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recognition.configured_profile import profile_for
from recognition.evaluation import (
    EmbeddingCache,
    evaluate_directory,
    evaluate_pairs,
    render_report_html,
)
from recognition.scoring import Calibrator, default_calibrator
from recognition.selectors import active_index

HEADLINE = (
    "rank1",
    "distractor_accept_rate",
    "tar_at_far_1pct",
    "tar_at_far_0_1pct",
    "precision",
    "recall",
)


class Command(BaseCommand):
    help = (
        "Measure identification on a labelled folder (first photo of each identity is the gallery, "
        "the rest are probes, single-photo identities are outsiders), or with --pairs the LFW protocol."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, nargs="?")
        parser.add_argument("--pairs", type=Path, help="LFW pairs.txt; images under --root")
        parser.add_argument(
            "--root", type=Path, help="Image root for --pairs (<root>/<Name>/<Name>_NNNN.jpg)"
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--report", type=Path, help="Write an HTML report with ROC curve and histograms."
        )
        parser.add_argument(
            "--threshold", type=float, default=None, help="Minimum confidence (0-1)."
        )
        parser.add_argument("--profile", default=None)
        parser.add_argument(
            "--calibration",
            choices=["self", "index", "default"],
            default="self",
            help="self: the gallery calibrates itself for STASHSENSE_TARGET_FAR, as an index "
            "does (default); index: the active index's stored calibration; default: the "
            "profile's shipped curve and threshold.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        profile = profile_for(options["profile"])
        bar = tqdm(unit="photo", disable=options["json"] or not self.stdout.isatty())

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        cache = EmbeddingCache(profile)
        if options["pairs"]:
            if not options["root"]:
                raise CommandError("--pairs needs --root")
            result = evaluate_pairs(
                profile, options["pairs"], options["root"], cache=cache, progress=progress
            )
        else:
            root = options["directory"]
            if root is None or not root.is_dir():
                raise CommandError("Give a directory of labelled photos (or --pairs with --root).")
            result = evaluate_directory(
                profile,
                root,
                calibrator=self._calibrator(profile.name, profile.metric, options["calibration"]),
                threshold=options["threshold"],
                target_far=settings.STASHSENSE_TARGET_FAR,
                cache=cache,
                progress=progress,
            )
        bar.close()
        if options["report"]:
            options["report"].write_text(render_report_html(result))
        summary = {k: v for k, v in result.items() if isinstance(v, int | float | str | bool)}
        summary.update(calibration_summary(result.get("calibration") or {}))
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        for key in (*HEADLINE, "accuracy", "std"):
            if key in summary:
                self.stdout.write(
                    f"{key:24} {summary[key]:.4f}"
                    if isinstance(summary[key], float)
                    else f"{key:24} {summary[key]}"
                )
        if options["report"]:
            self.stdout.write(f"report written to {options['report']}")

    @staticmethod
    def _calibrator(profile: str, metric: str, which: str) -> Calibrator | None:
        """None lets the evaluated gallery calibrate itself."""
        if which == "self":
            return None
        if which == "index":
            build = active_index(profile)
            if build is None or not build.calibration:
                raise CommandError(f"The active {profile} index has no stored calibration.")
            return Calibrator.from_dict(build.calibration)
        return default_calibrator(profile, metric)


def calibration_summary(calibration: dict[str, Any]) -> dict[str, Any]:
    """The fitted threshold, the FAR it holds and where it came from, for the summary line."""
    stats = calibration.get("stats") or {}
    return {
        f"calibration_{key}": stats[key]
        for key in (
            "source",
            "curve",
            "threshold_method",
            "far",
            "far_in_samples",
            "target_far",
            "genuine",
            "impostor",
        )
        if key in stats
    }
