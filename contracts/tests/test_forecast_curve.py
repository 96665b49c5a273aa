"""The forecast curve's rules for a creator's newest posts and posts to come, against hand
calculations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from uuid import UUID

from pulse_contracts.forecast import BookingPlan, forecast_bookings, round_units
from pulse_contracts.forecast_curve import Series, coming_share, decay_rate, fit_metric, own_decay

START = date(2024, 3, 1)


@dataclass(frozen=True)
class Day:
    date: date
    views_cum: int
    engagement_cum: int
    posts_live: int


def _series(gains: list[int], live: list[int]) -> list[Day]:
    out, total = [], 0
    for i, (gain, posts) in enumerate(zip(gains, live, strict=True)):
        total += gain
        out.append(Day(START + timedelta(days=i), total, total // 10, posts))
    return out


def test_a_post_gone_live_in_the_window_keeps_the_creators_decay_from_the_days_before() -> None:
    # One post decaying by half a day from day 0; a second post goes live on day 8 (index 8).
    gains = [1000, 800, 400, 200, 100, 50, 25, 12, 900, 500, 250]
    live = [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]
    series = Series(_series(gains, live), START)
    today = START + timedelta(days=11)
    # The window (days 7–10) holds the go-live: read days 4–7 instead, before day 8.
    # earlier = days 4+5 = 150, later = days 6+7 = 37: √(37/150) = 0.4966… → 0.4966.
    assert own_decay(series, "views", today) == (37, 150)
    fit = fit_metric(series, "views", sum(gains), today)
    assert decay_rate(fit) == Fraction(4966, 10_000)


def test_a_window_that_starts_before_the_first_post_has_no_own_decay() -> None:
    gains = [0, 0, 500, 300, 900, 400, 200]
    live = [0, 0, 1, 1, 2, 2, 2]
    series = Series(_series(gains, live), START)
    assert own_decay(series, "views", START + timedelta(days=7)) is None


def test_the_share_a_post_to_come_holds_is_the_mean_over_its_possible_go_live_days() -> None:
    rate = Fraction(3, 5)
    for days_left in (1, 2, 7, 30):
        mean = sum((1 - rate**d for d in range(1, days_left + 1)), Fraction(0)) / days_left
        assert coming_share(rate, days_left) == mean
    # One day left: it holds 1 − rate of its whole.
    assert coming_share(rate, 1) == Fraction(2, 5)


def test_engagement_to_come_is_the_committed_views_at_the_creators_engagement_per_view() -> None:
    # One post live since day 0 (10 % engagement per view: _series), a second committed.
    # The engagement commitment (2 % of the committed views) is a guess at the very rate the
    # live post measures, so the post to come is valued at 10 % of 50,000 views = 5,000.
    gains = [30_000, 15_000, 7_500, 3_750, 1_875]
    days = _series(gains, [1] * 5)
    plan = BookingPlan(
        booking_id=UUID(int=1),
        series=days,
        views=days[-1].views_cum,
        engagement=days[-1].engagement_cum,
        posts=1,
        committed_views=100_000,
        committed_engagement=2_000,
        committed_posts=2,
    )
    today = START + timedelta(days=5)
    end = START + timedelta(days=9)
    both = forecast_bookings([plan], start_date=START, end_date=end, today=today)[UUID(int=1)]
    alone = forecast_bookings(
        [replace(plan, committed_posts=1)], start_date=START, end_date=end, today=today
    )[UUID(int=1)]

    # What the second post adds: its whole times the share it holds by the end date, at the
    # decay each metric's own days show.
    def share(metric: str, actual: int) -> Fraction:
        fit = fit_metric(Series(days, START), metric, actual, today)
        return coming_share(decay_rate(fit), (end - today).days + 1)

    assert both.views - alone.views == round_units(50_000 * share("views", plan.views))
    per_view = Fraction(plan.engagement, plan.views)
    engagement_share = share("engagement", plan.engagement)
    assert both.engagement - alone.engagement == round_units(per_view * 50_000 * engagement_share)
    # Not the engagement commitment's 1,000 per post.
    assert both.engagement - alone.engagement > 4 * round_units(1_000 * engagement_share)
