"""Delivery forecast (docs/insights.md): where each booking lands at its end date — pure, exact.

It lives beside the numbers document rather than in the aggregator because a reader brings a
document forward in time (numbers.extend_to) and the forecast moves with it.

A booking's daily gains since its newest post's first full day are fitted to a geometric decay
(forecast_curve) and carried on to the end date; committed posts not yet live are added at the
views committed per post (and the engagement the creator earns per view), each going live on any
of the days left with equal chance. This module
assembles those per booking and campaign: every booking figure is an exact Fraction until its
half-up rounding, so an independent calculation (tests/oracle/forecast_oracle.py) agrees to the
unit; the campaign's are the sums of its bookings'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Literal
from uuid import UUID

from pydantic import Field

from .envelope import ContractModel
from .forecast_curve import (
    MAX_RATE,
    MIN_RATE,
    NEW_POST_HIGH,
    NEW_POST_LOW,
    PRIOR_RATE,
    RECENT_DAYS,
    TAIL_HIGH,
    TAIL_LOW,
    WINDOW_DAYS,
    Series,
    SeriesDay,
    coming_share,
    decay_rate,
    fit_metric,
    has_enough_data,
    live_value,
    projected_path,
    round_units,
    still_to_gain,
)

# The method's constants, read from here by the backtest's report and docs/insights.md.
__all__ = [
    "MAX_RATE",
    "MIN_RATE",
    "NEW_POST_HIGH",
    "NEW_POST_LOW",
    "PRIOR_RATE",
    "RECENT_DAYS",
    "TAIL_HIGH",
    "TAIL_LOW",
    "WINDOW_DAYS",
    "BookingPlan",
    "DeliveryForecast",
    "ForecastDay",
    "ForecastStatus",
    "SeriesDay",
    "campaign_projection",
    "document_forecast",
    "forecast_bookings",
    "recent_days",
    "round_units",
]

_METRICS = ("views", "engagement")

# How a forecast reads: "projected" carries figures and a band, "final" is the close of the end
# date once it has passed, "not_enough_data" has no figures at all.
ForecastStatus = Literal["projected", "not_enough_data", "final"]


class ForecastDay(ContractModel):
    """One day of the projected views_cum path, from as_of's date to the end date."""

    date: date
    views_cum: int


class DeliveryForecast(ContractModel):
    """Where a booking or campaign is projected to land at its end date, with a low–high band.

    Computed from each booking's daily series (docs/insights.md has the exact method).
    """

    status: ForecastStatus
    views: int | None = None
    views_low: int | None = None
    views_high: int | None = None
    engagement: int | None = None
    engagement_low: int | None = None
    engagement_high: int | None = None
    posts: int | None = None
    posts_low: int | None = None
    posts_high: int | None = None
    path: list[ForecastDay] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BookingPlan:
    """What a booking's forecast reads: its daily series, current actuals and commitments."""

    booking_id: UUID
    series: Sequence[SeriesDay]  # the booking's own daily series: at least its recent days
    views: int
    engagement: int
    posts: int
    committed_views: int | None
    committed_engagement: int | None
    committed_posts: int | None


@dataclass(frozen=True, slots=True)
class _Projection:
    """A booking's exact forecast; summed as is into the campaign's."""

    enough: bool
    final: bool
    views: Fraction
    views_low: Fraction
    views_high: Fraction
    engagement: Fraction
    engagement_low: Fraction
    engagement_high: Fraction
    posts: int
    posts_low: int
    posts_high: int
    path: dict[date, int]  # whole already: each day rounded once (projected_path)


def forecast_bookings(
    plans: Sequence[BookingPlan], *, start_date: date, end_date: date, today: date
) -> dict[UUID, _Projection]:
    """Every booking's exact forecast at `today` (the document's as_of date)."""
    if end_date < start_date:
        return {}
    series = {p.booking_id: Series(p.series, start_date) for p in plans}
    if today > end_date:
        return {p.booking_id: _final(p, series[p.booking_id], end_date) for p in plans}
    fits = {
        (p.booking_id, m): fit_metric(series[p.booking_id], m, getattr(p, m), today)
        for p in plans
        for m in _METRICS
    }
    enough = {p.booking_id: has_enough_data(series[p.booking_id], today) for p in plans}
    # The campaign's average projected figure per live post, for creators without one yet.
    eventual: dict[tuple[UUID, str], Fraction] = {}
    for p in plans:
        for m in _METRICS:
            fit = fits[p.booking_id, m]
            rate = decay_rate(fit)
            eventual[p.booking_id, m] = fit.anchor_value + still_to_gain(fit, rate)
    counted = [p for p in plans if enough[p.booking_id] and p.posts > 0]
    campaign_typical = {
        m: (
            sum((eventual[p.booking_id, m] for p in counted), Fraction(0))
            / sum(p.posts for p in counted)
            if counted
            else Fraction(0)
        )
        for m in _METRICS
    }
    out: dict[UUID, _Projection] = {}
    for p in plans:
        committed = {"views": p.committed_views, "engagement": p.committed_engagement}
        missing = max((p.committed_posts or 0) - p.posts, 0)
        figures: dict[str, tuple[Fraction, Fraction, Fraction]] = {}
        path: dict[date, int] = {}
        for m in _METRICS:
            fit = fits[p.booking_id, m]
            rate = decay_rate(fit)
            still = still_to_gain(fit, rate)
            # A post to come is worth what was committed per post; without a commitment, what
            # the creator's live posts are projected to average, else the campaign's average.
            # Its engagement, once the creator has views, is the committed views per post at
            # the engagement per view the creator's posts earn: an engagement commitment is a
            # guess at that same rate, and the live posts measure it (docs/forecast.md).
            if m == "engagement" and p.views > 0 and p.committed_views and p.committed_posts:
                typical = Fraction(p.engagement * p.committed_views, p.views * p.committed_posts)
            elif committed[m] and p.committed_posts:
                typical = Fraction(committed[m] or 0, p.committed_posts)
            elif enough[p.booking_id] and p.posts > 0:
                typical = eventual[p.booking_id, m] / p.posts
            else:
                typical = campaign_typical[m]
            coming = missing * typical * coming_share(rate, (end_date - today).days + 1)
            live_end = live_value(fit, still, rate, end_date)
            tail = live_end - fit.actual
            # The high end also allows for the live posts keeping today's pace to the end (no
            # decay at all: a slow creator, a second wave).
            steady = fit.anchor_value + still * (1 - rate) / rate * (end_date - fit.anchor_day).days
            figures[m] = (
                live_end + coming,
                fit.actual + tail * TAIL_LOW + coming * NEW_POST_LOW,
                max(fit.actual + tail * TAIL_HIGH, steady) + coming * NEW_POST_HIGH,
            )
            if m == "views":
                path = projected_path(fit, still, rate, coming, today, end_date)
        # Each booking's figures are rounded here; the campaign's are their sums.
        out[p.booking_id] = _Projection(
            enough=enough[p.booking_id],
            final=False,
            views=_whole(figures["views"][0]),
            views_low=_whole(figures["views"][1]),
            views_high=_whole(figures["views"][2]),
            engagement=_whole(figures["engagement"][0]),
            engagement_low=_whole(figures["engagement"][1]),
            engagement_high=_whole(figures["engagement"][2]),
            posts=p.posts + missing,
            posts_low=p.posts,
            posts_high=p.posts + missing,
            path=path,
        )
    return out


def _whole(value: Fraction) -> Fraction:
    return Fraction(round_units(value))


def _final(plan: BookingPlan, s: Series, end_date: date) -> _Projection:
    """After the end date: the close of the end date, with no band."""
    views = Fraction(s.cum("views", end_date))
    engagement = Fraction(s.cum("engagement", end_date))
    posts = s.live(end_date)
    return _Projection(
        True, True, views, views, views, engagement, engagement, engagement, posts, posts, posts, {}
    )


def recent_days(series: Sequence[SeriesDay], *, end_date: date, today: date) -> list[SeriesDay]:
    """The days of a booking's series its forecast reads (none once the end date has passed)."""
    if today > end_date:
        return []
    first = today - timedelta(days=RECENT_DAYS - 1)
    return [p for p in series if first <= p.date <= today]


def document_forecast(projection: _Projection | None) -> DeliveryForecast | None:
    """The contract shape of one projection (a booking's or the campaign's sum)."""
    if projection is None:
        return None
    status: ForecastStatus
    if projection.final:
        status = "final"
    elif not projection.enough:
        return DeliveryForecast(status="not_enough_data")
    else:
        status = "projected"
    return DeliveryForecast(
        status=status,
        views=round_units(projection.views),
        views_low=round_units(projection.views_low),
        views_high=round_units(projection.views_high),
        engagement=round_units(projection.engagement),
        engagement_low=round_units(projection.engagement_low),
        engagement_high=round_units(projection.engagement_high),
        posts=projection.posts,
        posts_low=projection.posts_low,
        posts_high=projection.posts_high,
        path=[ForecastDay(date=d, views_cum=v) for d, v in sorted(projection.path.items())],
    )


def campaign_projection(projections: Mapping[UUID, _Projection]) -> _Projection | None:
    """The campaign's forecast: the sums of its bookings' (already whole) figures."""
    if not projections:
        return None
    items = list(projections.values())
    # Whole numbers already: summed as integers (Fraction's normalising is slow at this count).
    path: dict[date, int] = {}
    for item in items:
        for d, v in item.path.items():
            path[d] = path.get(d, 0) + v

    def total(name: str) -> Fraction:
        return Fraction(sum(int(getattr(i, name)) for i in items))

    return _Projection(
        enough=any(i.enough for i in items),
        final=all(i.final for i in items),
        views=total("views"),
        views_low=total("views_low"),
        views_high=total("views_high"),
        engagement=total("engagement"),
        engagement_low=total("engagement_low"),
        engagement_high=total("engagement_high"),
        posts=sum(i.posts for i in items),
        posts_low=sum(i.posts_low for i in items),
        posts_high=sum(i.posts_high for i in items),
        path=path,
    )
