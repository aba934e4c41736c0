"""A self-contained HTML report of an evaluation, with inline SVG charts."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np


def render_report_html(result: dict[str, Any]) -> str:
    """A self-contained HTML page: headline numbers, ROC curve, score histograms, failures."""
    title = f"Face evaluation — {result.get('profile', '')}"
    headline_keys = (
        "rank1",
        "closed_set_rank1",
        "distractor_accept_rate",
        "precision",
        "recall",
        "tar_at_far_1pct",
        "tar_at_far_0_1pct",
        "accuracy",
        "std",
        "threshold",
    )
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{_format_number(result[key])}</td></tr>"
        for key in headline_keys
        if key in result and result[key] is not None
    )
    counts = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>"
        for key, value in result.get("counts", {}).items()
    )
    failures = "".join(_failure_row(failure) for failure in result.get("failures", []))
    failures_table = (
        "<h2>Failures</h2><table><tr><th>face</th><th>photo</th><th>expected</th>"
        f"<th>named</th><th>nearest</th><th>confidence</th><th>distance</th></tr>{failures}</table>"
        if failures
        else ""
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_REPORT_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(str(result.get('root', '')))}</p>"
        f"<table>{rows}{counts}</table>"
        f"<h2>ROC</h2>{_roc_svg(result.get('roc', []))}"
        "<h2>Scores of the top answer</h2>"
        f"{_histogram_svg(result.get('genuine_scores', []), result.get('impostor_scores', []))}"
        f"{failures_table}</body></html>"
    )


_REPORT_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
    "img{width:64px;height:64px;object-fit:cover}"
)


def _format_number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


def _failure_row(failure: dict[str, Any]) -> str:
    crop = failure.get("crop")
    image = f"<img src='{html.escape(crop)}' alt='face'>" if crop else "no face"
    cells = [
        failure.get("path"),
        failure.get("expected"),
        failure.get("named"),
        failure.get("nearest"),
        failure.get("confidence"),
        failure.get("distance"),
    ]
    return (
        f"<tr><td>{image}</td>"
        + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells)
        + "</tr>"
    )


def _roc_svg(roc: list[dict[str, float]], size: int = 320) -> str:
    """TAR against FAR with a log FAR axis from 0.1 % to 100 %."""
    if not roc:
        return "<p>no ROC data</p>"
    margin = 40

    def x_of(far: float) -> float:
        position = (math.log10(max(far, 1e-3)) + 3) / 3
        return margin + position * (size - 2 * margin)

    def y_of(tar: float) -> float:
        return size - margin - tar * (size - 2 * margin)

    points = " ".join(f"{x_of(p['far']):.1f},{y_of(p['tar']):.1f}" for p in roc)
    ticks = "".join(
        f"<text x='{x_of(far):.1f}' y='{size - margin + 16}' font-size='10' "
        f"text-anchor='middle'>{label}</text>"
        for far, label in ((1e-3, "0.1%"), (1e-2, "1%"), (1e-1, "10%"), (1.0, "100%"))
    ) + "".join(
        f"<text x='{margin - 4}' y='{y_of(tar) + 4:.1f}' font-size='10' "
        f"text-anchor='end'>{tar:g}</text>"
        for tar in (0.0, 0.5, 0.9, 1.0)
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}'>"
        f"<rect x='{margin}' y='{margin}' width='{size - 2 * margin}' "
        f"height='{size - 2 * margin}' fill='none' stroke='#999'/>"
        f"<polyline points='{points}' fill='none' stroke='#1565c0' stroke-width='2'/>{ticks}"
        f"<text x='{size / 2}' y='{size - 6}' font-size='11' text-anchor='middle'>"
        "false accept rate (log)</text>"
        f"<text x='12' y='{size / 2}' font-size='11' transform='rotate(-90 12 {size / 2})' "
        "text-anchor='middle'>true accept rate</text></svg>"
    )


def _histogram_svg(
    genuine: list[float], impostor: list[float], width: int = 480, height: int = 200
) -> str:
    values = list(genuine) + list(impostor)
    if not values:
        return "<p>no scores</p>"
    low, high = min(values), max(values)
    if high - low < 1e-9:
        high = low + 1.0
    bins = 30
    edges = np.linspace(low, high, bins + 1)
    genuine_counts = np.histogram(genuine, bins=edges)[0] / max(1, len(genuine))
    impostor_counts = np.histogram(impostor, bins=edges)[0] / max(1, len(impostor))
    tallest = max(float(genuine_counts.max()), float(impostor_counts.max()), 1e-9)
    bar_width = (width - 20) / bins
    bars = []
    for index in range(bins):
        for counts, colour in ((impostor_counts, "#c62828"), (genuine_counts, "#2e7d32")):
            bar_height = float(counts[index]) / tallest * (height - 30)
            bars.append(
                f"<rect x='{10 + index * bar_width:.1f}' y='{height - 20 - bar_height:.1f}' "
                f"width='{bar_width - 1:.1f}' height='{bar_height:.1f}' fill='{colour}' "
                "fill-opacity='0.55'/>"
            )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"
        + "".join(bars)
        + f"<text x='10' y='{height - 4}' font-size='10'>{low:.3f}</text>"
        f"<text x='{width - 10}' y='{height - 4}' font-size='10' text-anchor='end'>{high:.3f}</text>"
        "<text x='10' y='12' font-size='11' fill='#2e7d32'>genuine</text>"
        "<text x='80' y='12' font-size='11' fill='#c62828'>impostor</text></svg>"
    )
