"""The daily growth chart, drawn on the server as SVG user units (no script, prints as is)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .formats import fmt_compact, fmt_date, fmt_number
from .model import ReportDay


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    line: str  # polyline points of cumulative views
    area: str  # path of the area under it
    bars: list[Bar]  # new views per day
    ticks: list[Tick]
    first_label: str
    last_label: str
    summary: str


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ value: round axis maxima."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def growth_chart(daily: Sequence[ReportDay], width: int = 720, height: int = 260) -> Chart | None:
    """Cumulative views as a line over new views per day as bars."""
    if not daily:
        return None
    left, right, top, bottom = 56, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max(max(d.views_cum for d in daily), 1))
    bar_max = max(max(d.views_delta for d in daily), 1)
    n = len(daily)
    slot = plot_w / n
    base_y = top + plot_h

    def y_of(value: float) -> float:
        return round(base_y - plot_h * max(value, 0) / top_value, 2)

    xs = [round(left + slot * (i + 0.5), 2) for i in range(n)]
    points = [(x, y_of(d.views_cum)) for x, d in zip(xs, daily, strict=True)]
    line = " ".join(f"{x},{y}" for x, y in points)
    area = (
        f"M{points[0][0]},{base_y} "
        + " ".join(f"L{x},{y}" for x, y in points)
        + f" L{points[-1][0]},{base_y} Z"
    )
    # Bars use 40% of the height on their own scale, so quiet days stay visible under the line.
    bar_w = round(max(slot * 0.6, 1.0), 2)
    bars = []
    for x, d in zip(xs, daily, strict=True):
        h = round(plot_h * 0.4 * max(d.views_delta, 0) / bar_max, 2)
        bars.append(
            Bar(
                x=round(x - bar_w / 2, 2),
                y=round(base_y - h, 2),
                width=bar_w,
                height=h,
                label=f"{fmt_date(d.date)}: {fmt_number(d.views_delta)} new views",
            )
        )
    ticks = [Tick(y=y_of(top_value * f), label=fmt_compact(top_value * f)) for f in (0, 0.5, 1)]
    last = daily[-1]
    summary = (
        f"Views grew to {fmt_number(last.views_cum)} between {fmt_date(daily[0].date)} "
        f"and {fmt_date(last.date)}."
    )
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        line=line,
        area=area,
        bars=bars,
        ticks=ticks,
        first_label=fmt_date(daily[0].date),
        last_label=fmt_date(last.date),
        summary=summary,
    )
