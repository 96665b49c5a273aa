"""The delivery forecast (docs/insights.md) through the aggregator's document, day by day.

Campaigns with known growth curves are replayed: at every day the document's forecasts must
equal the independent oracle's (tests/oracle/forecast_oracle.py) to the unit, and what an agency
reads must make sense — not enough data at first, a projection near the real final with the
final inside the band, and the close of the end date once it has passed.
"""

from __future__ import annotations

import math
import random
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from pulse_aggregator.domain import compute_campaign_numbers
from pulse_aggregator.inputs import BookingRef, CampaignRef, Point, PostRef, day_of, newer
from pulse_contracts.numbers import CampaignNumbers, extend_to

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.oracle.kpi_oracle import oracle_numbers

ORG, CLIENT, CAMPAIGN = UUID(int=0xA), UUID(int=0xC), UUID(int=0x100)
START, END = date(2024, 3, 1), date(2024, 3, 20)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), UTC)


def _curve_samples(
    post_id: UUID, posted: datetime, total: float, rate: float, until: datetime, rng: random.Random
) -> list[Point]:
    """Views = total × (1 − rate^days since posting), pulled every six hours with jitter."""
    out: list[Point] = []
    t = posted + timedelta(hours=1)
    while t <= until:
        days = (t - posted).total_seconds() / 86400
        views = int(total * (1 - rate**days))
        out.append(Point(post_id, t, views=views, likes=views // 20, comments=views // 400))
        t += timedelta(hours=6, minutes=rng.randrange(0, 30))
    return out


def _campaign() -> CampaignRef:
    return CampaignRef(
        id=CAMPAIGN,
        org_id=ORG,
        client_id=CLIENT,
        name="Forecast check",
        status="live",
        start_date=START,
        end_date=END,
        budget_cents=None,
        currency="EUR",
        committed_views=None,
        committed_engagement=None,
    )


def _world(seed: int) -> dict[str, Any]:
    """Three creators: one posts early with a fast decay, one posts twice (the second late),
    one has committed two posts and makes only one."""
    rng = random.Random(seed)
    until = _midnight(END + timedelta(days=3))
    plan = [
        (UUID(int=0x401), 200_000, [(1.3, 0.55)]),
        (UUID(int=0x402), 400_000, [(2.6, 0.75), (12.2, 0.7)]),
        (UUID(int=0x403), 100_000, [(4.5, 0.8)]),
    ]
    bookings, posts, samples = [], [], []
    for n, (booking_id, per_post, curve) in enumerate(plan):
        committed_posts = 2 if n == 2 else len(curve)
        bookings.append(
            BookingRef(
                id=booking_id,
                campaign_id=CAMPAIGN,
                influencer_id=None,
                fee_cents=100_000,
                committed_views=per_post * committed_posts,
                committed_engagement=per_post * committed_posts // 20,
                committed_posts=committed_posts,
                min_engagement_rate=None,
            )
        )
        for i, (offset_days, rate) in enumerate(curve):
            post_id = UUID(int=booking_id.int * 16 + i)
            posts.append(PostRef(post_id, booking_id, CAMPAIGN, "tiktok"))
            total = per_post * rng.uniform(0.8, 1.2)
            posted = _midnight(START) + timedelta(days=offset_days)
            samples += _curve_samples(post_id, posted, total, rate, until, rng)
    return {"bookings": bookings, "posts": posts, "samples": samples}


def _document(world: dict[str, Any], now: datetime) -> CampaignNumbers:
    seen = [s for s in world["samples"] if s.observed_at <= now]
    latest: dict[UUID, Point] = {}
    closes: dict[tuple[UUID, date], Point] = {}
    for p in seen:
        if p.post_id not in latest or newer(p, latest[p.post_id]):
            latest[p.post_id] = p
        key = (p.post_id, day_of(p.observed_at))
        if key not in closes or newer(p, closes[key]):
            closes[key] = p
    by_post: dict[UUID, list[Point]] = {}
    for (post_id, _), p in closes.items():
        by_post.setdefault(post_id, []).append(p)
    return compute_campaign_numbers(
        campaign=_campaign(),
        campaign_id=CAMPAIGN,
        bookings=world["bookings"],
        posts=world["posts"],
        latest=latest,
        closes=by_post,
        now=now,
    )


def _oracle(world: dict[str, Any], now: datetime) -> dict[str, Any]:
    c = _campaign()
    campaign = {
        k: getattr(c, k)
        for k in (
            "id",
            "client_id",
            "name",
            "status",
            "start_date",
            "end_date",
            "budget_cents",
            "currency",
            "committed_views",
            "committed_engagement",
        )
    }
    bookings = [_fields(b) for b in world["bookings"]]
    posts = [_fields(p) for p in world["posts"]]
    samples = [_fields(s) for s in world["samples"] if s.observed_at <= now]
    return oracle_numbers(campaign, bookings, posts, samples, now)


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _final_views(world: dict[str, Any]) -> int:
    cutoff = _midnight(END + timedelta(days=1))
    best: dict[UUID, Point] = {}
    for p in world["samples"]:
        if p.observed_at < cutoff and (p.post_id not in best or newer(p, best[p.post_id])):
            best[p.post_id] = p
    return sum(p.views or 0 for p in best.values())


def test_every_day_of_a_campaign_equals_the_oracle() -> None:
    world = _world(seed=7)
    statuses = set()
    day = START
    while day <= END + timedelta(days=2):
        now = _midnight(day) + timedelta(hours=15, minutes=7)
        doc = _document(world, now).model_dump(mode="json")
        want = _oracle(world, now)
        assert doc["campaign"]["forecast"] == want["campaign"]["forecast"], day
        for got, expected in zip(doc["bookings"], want["bookings"], strict=True):
            assert got["forecast"] == expected["forecast"], (day, got["booking_id"])
            assert got["recent"] == expected["recent"], (day, got["booking_id"])
        statuses.add(doc["campaign"]["forecast"]["status"])
        day += timedelta(days=1)
    assert statuses == {"not_enough_data", "projected", "final"}


def test_the_first_days_say_not_enough_data_then_a_projection_near_the_final() -> None:
    world = _world(seed=3)
    first = _document(world, _midnight(START) + timedelta(hours=20)).campaign.forecast
    assert first is not None
    assert first.status == "not_enough_data"
    assert first.views is None

    final = _final_views(world)
    midway = _document(world, _midnight(START + timedelta(days=10)) + timedelta(hours=9))
    forecast = midway.campaign.forecast
    assert forecast is not None
    assert forecast.status == "projected"
    assert forecast.views_low is not None
    assert forecast.views_high is not None
    assert forecast.views is not None
    assert forecast.views_low <= forecast.views <= forecast.views_high
    # The booking that made one of its two posts carries the missing one at its commitment, so
    # the projection sits above the final here; the band still holds it, within 25 %.
    assert forecast.views_low <= final <= forecast.views_high
    assert math.isclose(forecast.views, final, rel_tol=0.25)
    # The dashed path runs from today to the end date and ends at the projection.
    assert forecast.path[0].date == START + timedelta(days=10)
    assert forecast.path[-1].date == END
    assert forecast.path[-1].views_cum == forecast.views
    assert all(
        a.views_cum <= b.views_cum for a, b in zip(forecast.path, forecast.path[1:], strict=False)
    )
    # Posts: the missing committed post is expected, and the low end does without it.
    assert (forecast.posts_low, forecast.posts, forecast.posts_high) == (3, 5, 5)


def test_after_the_end_date_the_forecast_is_the_close_of_the_end_date() -> None:
    world = _world(seed=5)
    doc = _document(world, _midnight(END + timedelta(days=2)) + timedelta(hours=10))
    forecast = doc.campaign.forecast
    assert forecast is not None
    assert forecast.status == "final"
    end_close = next(p for p in doc.daily if p.date == END)
    assert forecast.views == forecast.views_low == forecast.views_high == end_close.views_cum
    assert all(b.recent == [] for b in doc.bookings)


def test_extend_to_a_later_day_equals_recomputing_the_forecast() -> None:
    world = _world(seed=11)
    as_of = _midnight(START + timedelta(days=9)) + timedelta(hours=23)
    stored = _document(world, as_of)
    for later_days in (1, 3, 15):
        later = as_of + timedelta(days=later_days)
        # No sample after as_of: the later document is computed from the same samples.
        frozen = {**world, "samples": [s for s in world["samples"] if s.observed_at <= as_of]}
        assert extend_to(stored, later) == _document(frozen, later)
