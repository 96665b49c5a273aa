"""The daily series (design/kpis.md, "Daily series") as per-day steps: what each post adds on
each day, summed per booking and kept up to date batch by batch. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from pulse_contracts.numbers import (
    SERIES_TAIL,
    DailyPoint,
)

from .inputs import Point, PostRef, day_of, engagement, newer

_ONE_DAY = timedelta(days=1)


# --- daily series -----------------------------------------------------------------------------


def _closes_by_day(points: Iterable[Point]) -> dict[date, Point]:
    """The latest point of each UTC day; tolerant of duplicates and several points per day."""
    by_day: dict[date, Point] = {}
    for p in points:
        d = day_of(p.observed_at)
        held = by_day.get(d)
        if held is None or newer(p, held):
            by_day[d] = p
    return by_day


@dataclass(frozen=True, slots=True)
class Step:
    """What one day adds to the cumulative daily series: views, engagement and posts live."""

    views: int = 0
    engagement: int = 0
    live: int = 0

    def __add__(self, other: Step) -> Step:
        return Step(
            self.views + other.views, self.engagement + other.engagement, self.live + other.live
        )

    def __sub__(self, other: Step) -> Step:
        return Step(
            self.views - other.views, self.engagement - other.engagement, self.live - other.live
        )


NO_STEP = Step()
Steps = dict[date, Step]


def post_steps(points: Iterable[Point]) -> Steps:
    """One post's part of the daily series as per-day differences.

    On each UTC day the post has a close: that close minus the one before (0 before the first),
    and one post live on its first day. Summed over posts and prefix-summed over days this is
    the daily series (series_from_steps); summed up to a day it is the post's close of that day.
    """
    steps: Steps = {}
    views = eng = 0
    by_day = _closes_by_day(points)
    for d in sorted(by_day):
        close = by_day[d]
        close_views, close_eng = close.views or 0, engagement(close)
        steps[d] = Step(close_views - views, close_eng - eng, 0 if steps else 1)
        views, eng = close_views, close_eng
    return steps


def add_steps(total: Steps, steps: Mapping[date, Step]) -> Steps:
    """Adds `steps` into `total` (in place) and returns it."""
    for d, step in steps.items():
        total[d] = total.get(d, NO_STEP) + step
    return total


def series_from_steps(
    start_date: date,
    end_date: date,
    today: date,
    *steps: Mapping[date, Step],
    first: date | None = None,
) -> list[DailyPoint]:
    """The daily series from start_date to min(today, end_date + 7 days) (kpis.md).

    `steps` are the summed post_steps of the counted posts (one mapping, or several to be
    summed, e.g. a campaign's bookings'): each day's cumulative sums are the prefix sums of the
    steps, O(steps + days). A step before start_date lands on day one, which is how an early
    sample counts in day one's cum; a step after the last day counts nowhere. With `first`,
    only the days from `first` on are returned (their sums still count every earlier step): a
    booking's forecast reads only its recent days, and a point is an object to build.
    """
    last = min(today, end_date + SERIES_TAIL)
    if last < start_date:
        return []
    skip = max((first - start_date).days, 0) if first is not None else 0
    n_days = (last - start_date).days + 1
    # Per-day sums in plain integer lists: a Step per addition was a third of this function.
    views, eng, live = [0] * n_days, [0] * n_days, [0] * n_days
    for mapping in steps:
        for d, step in mapping.items():
            index = max((d - start_date).days, 0)
            if index < n_days:
                views[index] += step.views
                eng[index] += step.engagement
                live[index] += step.live
    series: list[DailyPoint] = []
    views_cum = engagement_cum = posts_live = 0
    for index in range(n_days):
        views_cum += views[index]
        engagement_cum += eng[index]
        posts_live += live[index]
        if index < skip:
            continue
        series.append(
            DailyPoint(
                date=start_date + timedelta(days=index),
                views_cum=views_cum,
                # cum(d) − cum(d − 1) is exactly the step of day d, with cum(start − 1) = 0.
                views_delta=views[index],
                engagement_cum=engagement_cum,
                engagement_delta=eng[index],
                posts_live=posts_live,
            )
        )
    return series


def daily_series(
    start_date: date,
    end_date: date,
    today: date,
    closes: Mapping[UUID, Sequence[Point]],
) -> list[DailyPoint]:
    """The daily series from start_date to min(today, end_date + 7 days) (kpis.md).

    `closes[post_id]` are the post's daily closes in any order. Each close changes the
    cumulative sums from its own day on, so the series is built from per-day differences and a
    prefix sum: O(closes + days), never closes × days.
    """
    steps: Steps = {}
    for points in closes.values():
        add_steps(steps, post_steps(points))
    return series_from_steps(start_date, end_date, today, steps)


def steps_until(day: date, steps: Mapping[date, Step]) -> Step:
    total = NO_STEP
    for d, step in steps.items():
        if d <= day:
            total = total + step
    return total


# --- keeping steps up to date, batch by batch --------------------------------------------------


def needs_history(newest: Point | None, arriving: Iterable[Point]) -> bool:
    """Whether step_changes needs all of a post's closes rather than only its newest one.

    Only when a point arrives for a day before the newest close's day (a late sample): any
    other batch changes the post's steps from the newest close's day on, which that close
    alone determines.
    """
    if newest is None:
        return False
    newest_day = day_of(newest.observed_at)
    return any(day_of(p.observed_at) < newest_day for p in arriving)


def step_changes(known: Sequence[Point], arriving: Iterable[Point]) -> Steps:
    """How one post's steps change when `arriving` points merge into its closes.

    `known` holds the post's closes: all of them, or those from some close day s on when every
    arriving point is dated s or later (its newest close, unless needs_history). Why a suffix
    is enough: the steps before s do not change, and the suffix's own steps differ from the
    full ones only at s, by the close before s (its views and engagement) and whether the post
    was live before s. Both are the same before and after the merge, so they cancel in the
    difference. Days whose step does not change are left out.
    """
    before = post_steps(known)
    after = post_steps([*known, *arriving])
    changes: Steps = {}
    for d in before.keys() | after.keys():
        change = after.get(d, NO_STEP) - before.get(d, NO_STEP)
        if change != NO_STEP:
            changes[d] = change
    return changes


def batch_step_changes(
    posts: Iterable[PostRef],
    arriving: Mapping[UUID, Sequence[Point]],
    known: Mapping[UUID, Sequence[Point]],
) -> dict[tuple[UUID, UUID], Steps]:
    """A batch's step changes per (campaign, booking) of each post's own record.

    `posts` are the batch's posts as the aggregator knows them: a removed post counts nowhere,
    so its points change no steps (they are still kept as closes). `known[post_id]` is what
    step_changes needs of each post.
    """
    changes: dict[tuple[UUID, UUID], Steps] = {}
    for post in posts:
        if post.removed or post.id not in arriving:
            continue
        change = step_changes(known.get(post.id, ()), arriving[post.id])
        if change:
            add_steps(changes.setdefault((post.campaign_id, post.booking_id), {}), change)
    return changes


def booking_steps(
    posts: Iterable[PostRef], closes: Mapping[UUID, Sequence[Point]]
) -> dict[tuple[UUID, UUID], Steps]:
    """Every (campaign, booking)'s steps from scratch: post_steps summed over the posts that
    are not removed, under the campaign and booking of each post's own record."""
    total: dict[tuple[UUID, UUID], Steps] = {}
    for post in posts:
        if not post.removed:
            add_steps(
                total.setdefault((post.campaign_id, post.booking_id), {}),
                post_steps(closes.get(post.id, ())),
            )
    return total
