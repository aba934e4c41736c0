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
    href: str = ""

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 2)

    @property
    def value_y(self) -> float:
        """Where the count is written: just above the bar."""
        return round(self.y - 3, 2)


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    plot_height: int
    total: int
    peak: int
    x_label: str = ""
    y_label: str = ""
    top_band: int = 0

    @property
    def tick_y(self) -> int:
        return self.plot_height + 13

    @property
    def x_label_y(self) -> int:
        return self.height - 3


def bar_chart(
    title: str,
    counts: Sequence[int],
    labels: Sequence[str],
    *,
    width: int = 360,
    height: int = 180,
    label_band: int = 34,
    top_band: int = 16,
    x_label: str = "",
    y_label: str = "",
    links: Sequence[str] | None = None,
) -> BarChart:
    """Bars scaled to the tallest under a band for their values; an empty series draws as a
    flat baseline. `links`: one URL per bar (what the bar counts), or none."""
    peak = max(counts, default=0)
    plot_height = height - label_band
    room = plot_height - top_band
    slot = width / max(len(counts), 1)
    hrefs = list(links) if links is not None else [""] * len(counts)
    bars = []
    for index, (count, label, href) in enumerate(zip(counts, labels, hrefs, strict=True)):
        bar_height = room * count / peak if peak else 0.0
        bars.append(
            Bar(
                x=round(index * slot + 1, 2),
                y=round(plot_height - bar_height, 2),
                width=round(max(slot - 2, 1), 2),
                height=round(bar_height, 2),
                count=count,
                label=label,
                href=href,
            )
        )
    return BarChart(
        title, bars, width, height, plot_height, sum(counts), peak, x_label, y_label, top_band
    )


def unit_bins(bins: int) -> list[str]:
    """Labels of `bins` equal bins over 0..1: "0.0", "0.1", … (each bin's lower edge)."""
    return [f"{index / bins:.1f}" for index in range(bins)]
