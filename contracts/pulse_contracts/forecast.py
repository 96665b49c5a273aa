"""Delivery forecast (docs/insights.md): where each booking lands at its end date — pure, exact.

It lives beside the numbers document rather than in the aggregator because a reader brings a
document forward in time (numbers.extend_to) and the forecast moves with it.

A booking's daily gains since its newest post's first full day are fitted to a geometric decay
and carried on to the end date; committed posts not yet live are added at the creator's average
projected views per live post. Every booking figure is an exact Fraction until
its half-up rounding, so an independent calculation (tests/oracle/forecast_oracle.py) agrees to
the unit; the campaign's are the sums of its bookings'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Literal, Protocol
from uuid import UUID

from pydantic import Field

from .envelope import ContractModel

# Tuned with `make backtest` (docs/forecast.md); each one is stated in docs/insights.md.
WINDOW_DAYS = 4  # the last full days whose gains the decay is fitted on
PRIOR_RATE = Fraction(13, 20)  # day-over-day decay before any booking shows its own
MIN_RATE = Fraction(1, 20)
MAX_RATE = Fraction(9, 10)
# The band: from TAIL_LOW to TAIL_HIGH times what the live posts are still projected to gain,
# plus NEW_POST_LOW to NEW_POST_HIGH times what the posts still to come are projected to bring.
TAIL_LOW = Fraction(1, 2)
TAIL_HIGH = Fraction(3, 2)
NEW_POST_LOW = Fraction(0)  # the low end: none of the posts still to come is made
NEW_POST_HIGH = Fraction(3, 2)

# The days a forecast reads: the window's gains need the close of the day before it, and
# "enough data" looks at the day before yesterday.
RECENT_DAYS = WINDOW_DAYS + 2
_ONE_DAY = timedelta(days=1)
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


class SeriesDay(Protocol):
    """A day of a booking's daily series (pulse_contracts.numbers.DailyPoint)."""

    @property
    def date(self) -> date: ...
    @property
    def views_cum(self) -> int: ...
    @property
    def engagement_cum(self) -> int: ...
    @property
    def posts_live(self) -> int: ...


def round_units(value: Fraction) -> int:
    """Half up to a whole number (values here are never negative)."""
    if value.denominator == 1:  # most are whole already (bookings are rounded once)
        return value.numerator
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def integer_root(value: int, k: int) -> int:
    """⌊value^(1/k)⌋ for value ≥ 0, exactly (integers only)."""
    if value < 2:
        return max(value, 0)
    guess: int = round(float(value) ** (1 / k))
    while guess**k > value:
        guess -= 1
    while (guess + 1) ** k <= value:
        guess += 1
    return guess


def clamp_rate(later: int, earlier: int) -> Fraction:
    """The day-over-day decay from two halves of the window: (later / earlier)^(1/h) for halves
    of h days, since h days of a geometric decay shrink by rate^h; rounded down to 4 decimals
    (an integer root, exact) and kept within [MIN_RATE, MAX_RATE]."""
    half = WINDOW_DAYS // 2
    scaled = max(later, 0) * 10 ** (4 * half) // earlier
    root = Fraction(integer_root(scaled, half), 10_000)
    return min(max(root, MIN_RATE), MAX_RATE)


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
class _Fit:
    """One metric of one booking: its gains since the newest post's first full day (`gains`),
    its own day-over-day decay as (Σ later gains, Σ earlier gains) when the window shows one,
    and where the projection starts (`anchor_day`, `anchor_value`)."""

    gains: tuple[int, ...]
    anchor_day: date
    anchor_value: int
    actual: int
    young_gain: int  # without gains: what the newest posts gained since they went live …
    young_age: int  # … over this many days (the go-live day and today both counted)
    own: tuple[int, int] | None


class _Series:
    def __init__(self, series: Sequence[SeriesDay], start: date) -> None:
        self.by_day = {p.date: p for p in series}
        self.start = start

    def cum(self, metric: str, day: date) -> int:
        point = self.by_day.get(day)
        if point is None:
            return 0  # only asked for days before start_date, where the series is 0
        return point.views_cum if metric == "views" else point.engagement_cum

    def live(self, day: date) -> int:
        point = self.by_day.get(day)
        return point.posts_live if point is not None else 0

    def newest_go_live(self, last: date, today: date) -> date | None:
        """The latest day of the recent days (≤ last) on which a post went live (posts_live rose).

        Only the recent days are looked at, so the answer never needs an older day.
        """
        day = last
        while day >= max(self.start, today - timedelta(days=RECENT_DAYS - 2)):
            if self.live(day) > self.live(day - _ONE_DAY):
                return day
            day -= _ONE_DAY
        return None


def _gain_days(s: _Series, today: date) -> list[date]:
    """Full days after the newest post's first day, within the window, up to yesterday."""
    yesterday = today - _ONE_DAY
    if s.live(yesterday) == 0:
        return []
    first = max(yesterday - timedelta(days=WINDOW_DAYS - 1), s.start + _ONE_DAY)
    newest = s.newest_go_live(yesterday, today)
    if newest is not None:
        first = max(first, newest + _ONE_DAY)
    days: list[date] = []
    day = first
    while day <= yesterday:
        days.append(day)
        day += _ONE_DAY
    return days


def _own_decay(s: _Series, metric: str, today: date) -> tuple[int, int] | None:
    """(B, A): what the last two full days gained, and the two days before them, when no post
    went live in those four days (a go-live day's gain is partial, and mixes a new post in).
    Halves of two days each even out a pull that lands just after midnight."""
    yesterday = today - _ONE_DAY
    first = yesterday - timedelta(days=WINDOW_DAYS - 1)
    before = first - _ONE_DAY
    if before < s.start or s.live(before) == 0 or s.live(yesterday) != s.live(before):
        return None
    middle = first + timedelta(days=WINDOW_DAYS // 2 - 1)
    earlier = s.cum(metric, middle) - s.cum(metric, before)
    later = s.cum(metric, yesterday) - s.cum(metric, middle)
    return (later, earlier) if earlier > 0 else None


def _fit(s: _Series, metric: str, actual: int, today: date) -> _Fit:
    days = _gain_days(s, today)
    gains = tuple(s.cum(metric, d) - s.cum(metric, d - _ONE_DAY) for d in days)
    own = _own_decay(s, metric, today)
    if gains:
        yesterday = today - _ONE_DAY
        return _Fit(gains, yesterday, s.cum(metric, yesterday), actual, 0, 0, own)
    newest = s.newest_go_live(today, today)
    if newest is None:
        return _Fit(gains, today, actual, actual, 0, 0, own)
    gained = actual - s.cum(metric, newest - _ONE_DAY)
    return _Fit(gains, today, actual, actual, gained, (today - newest).days + 1, own)


def _still_to_gain(fit: _Fit, rate: Fraction) -> Fraction:
    """What the live posts gain from the anchor day on, ever: the geometric tail.

    With gains: the fitted level of the anchor day (Σ gains / Σ rate^-j, so the i-th of n gains
    ≈ level · rate^(i−n)) times rate + rate² + … = rate / (1 − rate). Without (posts younger
    than a full day): they gained young_gain over young_age days, the share 1 − rate^age of a
    post's whole, so rate^age / (1 − rate^age) of it is still to come.
    """
    if fit.gains:
        weights = sum((1 / rate**j for j in range(len(fit.gains))), Fraction(0))
        level = max(Fraction(sum(fit.gains)) / weights, Fraction(0))
        return level * rate / (1 - rate)
    if fit.young_age == 0:
        return Fraction(0)
    decayed = rate**fit.young_age
    return max(Fraction(fit.young_gain), Fraction(0)) * decayed / (1 - decayed)


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
    path: dict[date, Fraction]


def _rate(fit: _Fit) -> Fraction:
    """The booking's own decay when its window shows one, else the prior (pooling other
    creators' decays was tried and forecast worse in the backtest: creators differ)."""
    return clamp_rate(*fit.own) if fit.own is not None else PRIOR_RATE


def _live_value(fit: _Fit, tail: Fraction, rate: Fraction, day: date) -> Fraction:
    """What the booking's live posts hold at the end of `day`: of the tail still to gain, the
    share 1 − rate^k arrives within the k days after the anchor. Never below today's actual."""
    days = max((day - fit.anchor_day).days, 0)
    return max(fit.anchor_value + tail * (1 - rate**days), Fraction(fit.actual))


def _path(
    fit: _Fit, tail: Fraction, rate: Fraction, coming: Fraction, today: date, end_date: date
) -> dict[date, int]:
    """_live_value of each day from today to the end date, plus the posts still to come spread
    evenly over those days, each rounded half up.

    The same exact values as with Fractions, in plain integers (numerator over denominator,
    never reduced): a campaign's path has a point per booking and day, and Fraction's
    normalising made it most of a recompute's cost.
    """
    path: dict[date, int] = {}
    span = (end_date - today).days + 1
    rn, rd = rate.numerator, rate.denominator
    tn, td = tail.numerator, tail.denominator
    cn, cd = coming.numerator, coming.denominator
    k = max((today - fit.anchor_day).days, 0)
    power_n, power_d = rn**k, rd**k  # rate^k
    day = today
    while day <= end_date:
        # live = anchor + tail · (1 − rate^k) = ln / ld, never below the actual.
        ld = td * power_d
        ln = fit.anchor_value * ld + tn * (power_d - power_n)
        if ln < fit.actual * ld:
            ln = fit.actual * ld
        # + coming · (i + 1) / span
        i = (day - today).days + 1
        num = ln * cd * span + cn * i * ld
        den = ld * cd * span
        path[day] = (2 * num + den) // (2 * den)
        power_n, power_d = power_n * rn, power_d * rd
        day += _ONE_DAY
    return path


def _enough(s: _Series, today: date) -> bool:
    """A post was live at the end of the day before yesterday: yesterday was a full day."""
    before = today - 2 * _ONE_DAY
    return before >= s.start and s.live(before) > 0


def forecast_bookings(
    plans: Sequence[BookingPlan], *, start_date: date, end_date: date, today: date
) -> dict[UUID, _Projection]:
    """Every booking's exact forecast at `today` (the document's as_of date)."""
    if end_date < start_date:
        return {}
    series = {p.booking_id: _Series(p.series, start_date) for p in plans}
    if today > end_date:
        return {p.booking_id: _final(p, series[p.booking_id], end_date) for p in plans}
    fits = {
        (p.booking_id, m): _fit(series[p.booking_id], m, getattr(p, m), today)
        for p in plans
        for m in _METRICS
    }
    enough = {p.booking_id: _enough(series[p.booking_id], today) for p in plans}
    # The campaign's average projected figure per live post, for creators without one yet.
    eventual: dict[tuple[UUID, str], Fraction] = {}
    for p in plans:
        for m in _METRICS:
            fit = fits[p.booking_id, m]
            rate = _rate(fit)
            eventual[p.booking_id, m] = fit.anchor_value + _still_to_gain(fit, rate)
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
            rate = _rate(fit)
            still = _still_to_gain(fit, rate)
            # A post to come is worth what was committed per post; without a commitment, what
            # the creator's live posts are projected to average, else the campaign's average.
            if committed[m] and p.committed_posts:
                typical = Fraction(committed[m] or 0, p.committed_posts)
            elif enough[p.booking_id] and p.posts > 0:
                typical = eventual[p.booking_id, m] / p.posts
            else:
                typical = campaign_typical[m]
            # A post still to come goes live, on average, halfway through the days left.
            halfway = (end_date - today).days // 2 + 1
            coming = missing * typical * (1 - rate**halfway)
            live_end = _live_value(fit, still, rate, end_date)
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
                path = _path(fit, still, rate, coming, today, end_date)
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
            path={d: Fraction(v) for d, v in path.items()},
        )
    return out


def _whole(value: Fraction) -> Fraction:
    return Fraction(round_units(value))


def _final(plan: BookingPlan, s: _Series, end_date: date) -> _Projection:
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
        path=[
            ForecastDay(date=d, views_cum=round_units(v))
            for d, v in sorted(projection.path.items())
        ],
    )


def campaign_projection(projections: Mapping[UUID, _Projection]) -> _Projection | None:
    """The campaign's forecast: the sums of its bookings' (already whole) figures."""
    if not projections:
        return None
    items = list(projections.values())
    # Whole numbers already: summed as integers (Fraction's normalising is slow at this count).
    sums: dict[date, int] = {}
    for item in items:
        for d, v in item.path.items():
            sums[d] = sums.get(d, 0) + int(v)
    path = {d: Fraction(v) for d, v in sums.items()}

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
