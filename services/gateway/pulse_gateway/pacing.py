"""Campaigns compared at the same point of their lives: by campaign day, not by calendar date.

A campaign 80 % through its dates has had five times as long to gather views as one at 16 %;
side by side on totals alone the younger one always loses. Pure: numbers documents in, the
comparison's rows and the pacing chart's series out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Pace:
    campaign_id: str
    name: str
    timeline_pct: float | None
    day: int | None  # the campaign day reached today (1 = its first day), None before it starts
    views_at_common_day: int | None


@dataclass(frozen=True)
class Pacing:
    common_day: int | None  # the latest day every campaign has reached
    paces: list[Pace]
    # The chart: x = campaign day 1…n; y = % of committed views (or views where a campaign has
    # no views commitment); None where a campaign has no reading for that day.
    unit: str  # "pct" | "views"
    days: list[int]
    series: list[list[float | None]]


def _day_of(start: date, on: date) -> int:
    return (on - start).days + 1


def _views_by_day(start: date, daily: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    return {
        _day_of(start, date.fromisoformat(str(p["date"]))): int(p["views_cum"])
        for p in daily
        if date.fromisoformat(str(p["date"])) >= start
    }


def _at_or_before(by_day: Mapping[int, int], day: int) -> int | None:
    reached = [d for d in by_day if d <= day]
    return by_day[max(reached)] if reached else None


def pacing(documents: Sequence[Mapping[str, Any]], today: date) -> Pacing:
    """Each campaign's day today, its views at the latest day all have reached, and its
    cumulative views per campaign day (against its commitment when every campaign has one)."""
    starts: list[date | None] = []
    by_days: list[dict[int, int]] = []
    reached: list[int | None] = []
    for doc in documents:
        campaign = doc["campaign"]
        start = (
            date.fromisoformat(str(campaign["start_date"])) if campaign.get("start_date") else None
        )
        end = date.fromisoformat(str(campaign["end_date"])) if campaign.get("end_date") else None
        starts.append(start)
        by_days.append(_views_by_day(start, doc.get("daily") or []) if start else {})
        if start is None or today < start:
            reached.append(None)
        else:
            last = min(today, end) if end else today
            reached.append(_day_of(start, last))
    common = min((r for r in reached if r is not None), default=None)
    if any(r is None for r in reached):
        common = None
    paces = [
        Pace(
            campaign_id=str(doc["campaign"]["campaign_id"]),
            name=str(doc["campaign"].get("name") or ""),
            timeline_pct=doc["campaign"].get("timeline_pct"),
            day=day,
            views_at_common_day=_at_or_before(by_day, common) if common else None,
        )
        for doc, day, by_day in zip(documents, reached, by_days, strict=True)
    ]
    committed = [doc["campaign"].get("committed_views") for doc in documents]
    unit = "pct" if all(c for c in committed) else "views"
    longest = max((max(b) for b in by_days if b), default=0)
    days = list(range(1, longest + 1))
    series: list[list[float | None]] = []
    for by_day, commitment, day in zip(by_days, committed, reached, strict=True):
        values: list[float | None] = []
        for d in days:
            views = by_day.get(d)
            if views is None or (day is not None and d > day):
                values.append(None)  # no reading, or a day still ahead of this campaign
            elif unit == "pct":
                values.append(round(100 * views / commitment, 2))
            else:
                values.append(float(views))
        series.append(values)
    return Pacing(common_day=common, paces=paces, unit=unit, days=days, series=series)
