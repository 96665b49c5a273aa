"""The daily growth chart, drawn on the server as SVG user units (no script, prints as is).

Two panels share one day axis: total views as a line, and new views per day as bars on their
own axis below it. Drawn on one axis, a day's bar would read against the running total (a
1.7M day looked like 4M). Both axes start at 0.

Colours are presentation attributes, not stylesheet rules: WeasyPrint draws an inline SVG as
a separate image, so the page's CSS never reaches it and every unstyled fill prints black.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .formats import fmt_compact, fmt_date, fmt_number
from .model import ReportDay

WIDTH = 720  # a page or a laptop; phones get the same chart drawn 360 wide (html.py)
NARROW = 360
LEFT, RIGHT = 64, 16
TOTAL_TOP, TOTAL_HEIGHT = 28, 170  # the total-views panel (its title sits above it)
DAILY_TOP, DAILY_HEIGHT = 250, 90  # the new-views panel
HEIGHT = 372  # room for the date labels under the daily panel
TIP_WIDTH, TIP_HEIGHT = 190, 60


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Day:
    """One day's hover target across both panels, with its tooltip (screen only)."""

    x: float  # the slot's left edge
    width: float
    centre: float
    tip_x: float  # the tooltip's left edge, kept inside the chart
    date: str
    total: str
    new: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    total_top: int
    total_bottom: int
    daily_top: int
    daily_bottom: int
    line: str  # polyline points of cumulative views
    area: str  # path of the area under it
    bars: list[Bar]  # new views per day, on the daily panel's own scale
    total_ticks: list[Tick]
    daily_ticks: list[Tick]
    days: list[Day]
    tip_y: int
    tip_width: int
    tip_height: int
    first_label: str
    last_label: str
    summary: str


def nice_ceiling(value: float) -> float:
    """The smallest round number × 10^k that is ≥ value: an axis top whose half is round too
    and that leaves little empty room (5.9M tops at 6M, not 10M). The dashboard uses the same
    steps (app.js niceCeiling)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _ticks(top_value: float, base_y: float, plot_h: float) -> list[Tick]:
    return [
        Tick(y=round(base_y - plot_h * f, 2), label=fmt_compact(top_value * f)) for f in (0, 0.5, 1)
    ]


def growth_chart(daily: Sequence[ReportDay], width: int = WIDTH) -> Chart | None:
    """Total views as a line (upper panel) and new views per day as bars (lower panel)."""
    if not daily:
        return None
    plot_w = width - LEFT - RIGHT
    total_base = TOTAL_TOP + TOTAL_HEIGHT
    daily_base = DAILY_TOP + DAILY_HEIGHT
    total_max = nice_ceiling(max(max(d.views_cum for d in daily), 1))
    daily_max = nice_ceiling(max(max(d.views_delta for d in daily), 1))
    n = len(daily)
    slot = plot_w / n  # each day owns a slot, so the first and last bars are drawn whole
    xs = [round(LEFT + slot * (i + 0.5), 2) for i in range(n)]

    def total_y(value: float) -> float:
        return round(total_base - TOTAL_HEIGHT * max(value, 0) / total_max, 2)

    points = [(x, total_y(d.views_cum)) for x, d in zip(xs, daily, strict=True)]
    line = " ".join(f"{x},{y}" for x, y in points)
    area = (
        f"M{points[0][0]},{total_base} "
        + " ".join(f"L{x},{y}" for x, y in points)
        + f" L{points[-1][0]},{total_base} Z"
    )
    bar_w = round(max(slot * 0.6, 1.0), 2)
    bars = []
    days = []
    for i, (x, d) in enumerate(zip(xs, daily, strict=True)):
        h = round(DAILY_HEIGHT * max(d.views_delta, 0) / daily_max, 2)
        bars.append(
            Bar(x=round(x - bar_w / 2, 2), y=round(daily_base - h, 2), width=bar_w, height=h)
        )
        tip_x = min(max(x - TIP_WIDTH / 2, 0), width - TIP_WIDTH)
        days.append(
            Day(
                x=round(LEFT + slot * i, 2),
                width=round(slot, 2),
                centre=x,
                tip_x=round(tip_x, 2),
                date=fmt_date(d.date),
                total=f"{fmt_number(d.views_cum)} views in total",
                new=f"+{fmt_number(d.views_delta)} new that day",
            )
        )
    last = daily[-1]
    summary = (
        f"Views grew to {fmt_number(last.views_cum)} between {fmt_date(daily[0].date)} "
        f"and {fmt_date(last.date)}; the busiest day brought "
        f"{fmt_number(max(d.views_delta for d in daily))} new views."
    )
    return Chart(
        width=width,
        height=HEIGHT,
        left=LEFT,
        right=RIGHT,
        total_top=TOTAL_TOP,
        total_bottom=total_base,
        daily_top=DAILY_TOP,
        daily_bottom=daily_base,
        line=line,
        area=area,
        bars=bars,
        total_ticks=_ticks(total_max, total_base, TOTAL_HEIGHT),
        daily_ticks=_ticks(daily_max, daily_base, DAILY_HEIGHT),
        days=days,
        tip_y=0,
        tip_width=TIP_WIDTH,
        tip_height=TIP_HEIGHT,
        first_label=fmt_date(daily[0].date),
        last_label=fmt_date(last.date),
        summary=summary,
    )


PERIODS = (7, 14, 30)  # the periods a reader may pick: "last N days"


@dataclass(frozen=True)
class PeriodSummary:
    days: int
    new_views: int
    previous_views: int | None  # the N days before; None when the campaign is younger
    change_pct: float | None  # against the previous period; None without one (or from 0)


def period_summary(daily: Sequence[ReportDay], days: int) -> PeriodSummary:
    """New views in the last `days` days of the series, against the `days` before them."""
    recent = sum(max(d.views_delta, 0) for d in daily[-days:])
    if len(daily) < 2 * days:
        return PeriodSummary(days, recent, None, None)
    previous = sum(max(d.views_delta, 0) for d in daily[-2 * days : -days])
    change = round(100 * (recent - previous) / previous, 1) if previous else None
    return PeriodSummary(days, recent, previous, change)
