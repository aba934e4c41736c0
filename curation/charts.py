"""Bar charts as geometry for server-rendered SVG (the template draws the rectangles)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    plot_height: int
    total: int
    peak: int


def bar_chart(
    title: str,
    counts: Sequence[int],
    labels: Sequence[str],
    *,
    width: int = 360,
    height: int = 160,
    label_band: int = 20,
) -> BarChart:
    """Bars scaled to the tallest; an empty series draws as a flat baseline."""
    peak = max(counts, default=0)
    plot_height = height - label_band
    slot = width / max(len(counts), 1)
    bars = []
    for index, (count, label) in enumerate(zip(counts, labels, strict=True)):
        bar_height = plot_height * count / peak if peak else 0.0
        bars.append(
            Bar(
                x=round(index * slot + 1, 2),
                y=round(plot_height - bar_height, 2),
                width=round(max(slot - 2, 1), 2),
                height=round(bar_height, 2),
                count=count,
                label=label,
            )
        )
    return BarChart(title, bars, width, height, plot_height, sum(counts), peak)


def unit_bins(bins: int) -> list[str]:
    """Labels of `bins` equal bins over 0..1: "0.0", "0.1", … (each bin's lower edge)."""
    return [f"{index / bins:.1f}" for index in range(bins)]
