"""The delivery forecast's curve (docs/insights.md): a booking's daily gains fitted to a geometric
decay, and what its live posts and posts still to come hold by a given day — pure, exact.

forecast.py assembles these per booking and campaign into the numbers document's shape. Every
value is an exact Fraction (or integers standing for one), so the independent oracle
(tests/oracle/forecast_oracle.py) agrees to the unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Protocol

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

# The days a forecast reads: the window's gains need the close of the day before it, "enough
# data" looks at the day before yesterday, and when a post went live within the window the decay
# is read on the window before that go-live day (own_decay): up to WINDOW_DAYS + 1 days further.
RECENT_DAYS = 2 * WINDOW_DAYS + 3
ONE_DAY = timedelta(days=1)


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
class Fit:
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


class Series:
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
            if self.live(day) > self.live(day - ONE_DAY):
                return day
            day -= ONE_DAY
        return None


def gain_days(s: Series, today: date) -> list[date]:
    """Full days after the newest post's first day, within the window, up to yesterday."""
    yesterday = today - ONE_DAY
    if s.live(yesterday) == 0:
        return []
    first = max(yesterday - timedelta(days=WINDOW_DAYS - 1), s.start + ONE_DAY)
    newest = s.newest_go_live(yesterday, today)
    if newest is not None:
        first = max(first, newest + ONE_DAY)
    days: list[date] = []
    day = first
    while day <= yesterday:
        days.append(day)
        day += ONE_DAY
    return days


def own_decay(s: Series, metric: str, today: date) -> tuple[int, int] | None:
    """(B, A): what the last two full days gained, and the two days before them, when no post
    went live in those four days (a go-live day's gain is partial, and mixes a new post in).
    Halves of two days each even out a pull that lands just after midnight.

    When a post did go live in them, the same is read on the four full days before that go-live
    day: the creator's older posts show how the creator's audience decays, which a new post
    follows far more closely than the prior does (docs/forecast.md has the backtest)."""
    yesterday = today - ONE_DAY
    first = yesterday - timedelta(days=WINDOW_DAYS - 1)
    before = first - ONE_DAY
    if s.live(yesterday) != s.live(before):
        newest = s.newest_go_live(yesterday, today)
        if newest is not None:
            yesterday = newest - ONE_DAY
            first = yesterday - timedelta(days=WINDOW_DAYS - 1)
            before = first - ONE_DAY
    if before < s.start or s.live(before) == 0 or s.live(yesterday) != s.live(before):
        return None
    middle = first + timedelta(days=WINDOW_DAYS // 2 - 1)
    earlier = s.cum(metric, middle) - s.cum(metric, before)
    later = s.cum(metric, yesterday) - s.cum(metric, middle)
    return (later, earlier) if earlier > 0 else None


def fit_metric(s: Series, metric: str, actual: int, today: date) -> Fit:
    days = gain_days(s, today)
    gains = tuple(s.cum(metric, d) - s.cum(metric, d - ONE_DAY) for d in days)
    own = own_decay(s, metric, today)
    if gains:
        yesterday = today - ONE_DAY
        return Fit(gains, yesterday, s.cum(metric, yesterday), actual, 0, 0, own)
    newest = s.newest_go_live(today, today)
    if newest is None:
        return Fit(gains, today, actual, actual, 0, 0, own)
    gained = actual - s.cum(metric, newest - ONE_DAY)
    return Fit(gains, today, actual, actual, gained, (today - newest).days + 1, own)


def still_to_gain(fit: Fit, rate: Fraction) -> Fraction:
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


def decay_rate(fit: Fit) -> Fraction:
    """The booking's own decay when its window shows one, else the prior (pooling other
    creators' decays was tried and forecast worse in the backtest: creators differ)."""
    return clamp_rate(*fit.own) if fit.own is not None else PRIOR_RATE


def live_value(fit: Fit, tail: Fraction, rate: Fraction, day: date) -> Fraction:
    """What the booking's live posts hold at the end of `day`: of the tail still to gain, the
    share 1 − rate^k arrives within the k days after the anchor. Never below today's actual."""
    days = max((day - fit.anchor_day).days, 0)
    return max(fit.anchor_value + tail * (1 - rate**days), Fraction(fit.actual))


def projected_path(
    fit: Fit, tail: Fraction, rate: Fraction, coming: Fraction, today: date, end_date: date
) -> dict[date, int]:
    """live_value of each day from today to the end date, plus the posts still to come spread
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
        day += ONE_DAY
    return path


def has_enough_data(s: Series, today: date) -> bool:
    """A post was live at the end of the day before yesterday: yesterday was a full day."""
    before = today - 2 * ONE_DAY
    return before >= s.start and s.live(before) > 0


def coming_share(rate: Fraction, days_left: int) -> Fraction:
    """The share of its whole a post still to come holds at the end date, when it goes live on
    any of the days left with equal chance: the mean of 1 − rate^d over d = 1 … days_left, in
    closed form 1 − rate · (1 − rate^n) / (n · (1 − rate)). Averaging over the go-live day
    rather than taking the middle one matters for slow creators: a post made late holds little."""
    n = max(days_left, 1)
    return 1 - rate * (1 - rate**n) / (n * (1 - rate))
