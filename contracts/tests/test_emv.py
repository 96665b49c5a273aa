"""EMV (docs/insights.md "Earned media value") against hand calculations and an independent
Decimal calculation: per post to the cent half up, bookings and campaign as sums, ROI."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from pulse_contracts.emv import DEFAULT_RATES, EmvRates, campaign_emv, post_emv_cents, roi
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    LatestCounters,
    PostNumbers,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _counters(views=None, likes=None, comments=None, shares=None, saves=None) -> LatestCounters:
    engagement = sum(v or 0 for v in (likes, comments, shares, saves))
    return LatestCounters(
        observed_at=NOW,
        views=views,
        likes=likes,
        comments=comments,
        shares=shares,
        saves=saves,
        engagement=engagement,
    )


def _oracle_cents(c: LatestCounters, r: dict[str, str]) -> int:
    """Independent: decimal strings, one sum, quantized to the cent ROUND_HALF_UP."""
    amount = (
        Decimal(c.views or 0) / Decimal(1000) * Decimal(r["per_1000_views"])
        + Decimal(c.likes or 0) * Decimal(r["per_like"])
        + Decimal(c.comments or 0) * Decimal(r["per_comment"])
        + Decimal(c.shares or 0) * Decimal(r["per_share"])
        + Decimal(c.saves or 0) * Decimal(r["per_save"])
    )
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_a_tiktok_post_at_the_default_rates_by_hand() -> None:
    # 123,456 views at 10 per 1,000 = 1,234.56; (7,891 + 234 + 56 + 78) = 8,259 actions at
    # 0.15 = 1,238.85; together 2,473.41.
    c = _counters(views=123_456, likes=7_891, comments=234, shares=56, saves=78)
    assert post_emv_cents(c, "tiktok", EmvRates()) == 247_341


def test_half_a_cent_rounds_up_on_the_exact_decimal() -> None:
    # 1.005 per like: a float would give 100.49999… cents; the rate is read as written.
    rates = EmvRates.merged({"instagram": {"per_like": 1.005}})
    assert post_emv_cents(_counters(likes=1), "instagram", rates) == 101
    # One view at 5 per 1,000 is half a cent: one cent.
    rates = EmvRates.merged({"tiktok": {"per_1000_views": 5, "per_like": 0}})
    assert post_emv_cents(_counters(views=1), "tiktok", rates) == 1
    assert post_emv_cents(_counters(views=0), "tiktok", rates) == 0


def test_missing_counters_count_zero_and_no_sample_is_none() -> None:
    rates = EmvRates()
    assert post_emv_cents(_counters(views=None, likes=4), "youtube", rates) == 140  # 4 × 0.35
    assert post_emv_cents(None, "youtube", rates) is None
    assert post_emv_cents(_counters(views=10**6, likes=10**4), "other", rates) == 0


def test_random_posts_agree_with_the_decimal_oracle() -> None:
    rng = random.Random(14)
    for _ in range(500):
        own = {
            m: f"{rng.randint(0, 5000) / 1000:.3f}"
            for m in ("per_1000_views", "per_like", "per_comment", "per_share", "per_save")
        }
        rates = EmvRates.merged({"instagram": {k: float(v) for k, v in own.items()}})
        c = _counters(
            views=rng.choice([None, rng.randint(0, 10**8)]),
            likes=rng.choice([None, rng.randint(0, 10**6)]),
            comments=rng.randint(0, 10**5),
            shares=rng.choice([None, rng.randint(0, 10**5)]),
            saves=rng.randint(0, 10**5),
        )
        assert post_emv_cents(c, "instagram", rates) == _oracle_cents(c, own)


def test_bookings_and_campaign_are_sums_of_posts_and_roi_divides_by_spend() -> None:
    campaign_id, a, b = uuid4(), uuid4(), uuid4()
    rates = EmvRates.merged({"currency": "EUR"})
    posts = [
        # tiktok: 50 + 300 × 0.15 = 95.00
        PostNumbers(post_id=uuid4(), booking_id=a, platform="tiktok", latest=_counters(5000, 300)),
        # instagram: 8 + 41 × 0.25 = 18.25
        PostNumbers(
            post_id=uuid4(), booking_id=a, platform="instagram", latest=_counters(1000, 40, 1)
        ),
        PostNumbers(post_id=uuid4(), booking_id=b, platform="youtube", latest=None),
    ]
    doc = CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=campaign_id,
            currency="EUR",
            spend_cents=3_000,
            start_date=date(2026, 11, 1),
            end_date=date(2026, 11, 30),
        ),
        bookings=[
            BookingNumbers(booking_id=a, fee_cents=7_000),
            BookingNumbers(booking_id=b, fee_cents=0),
        ],
        posts=posts,
        as_of=NOW,
    )
    emv = campaign_emv(doc, rates)
    assert [p.emv_cents for p in emv.posts] == [9_500, 1_825, None]
    assert emv.emv_cents == 11_325
    assert {x.booking_id: x.emv_cents for x in emv.bookings} == {a: 11_325, b: 0}
    assert emv.roi == 3.78  # 113.25 / 30.00 = 3.775, half up
    assert {x.booking_id: x.roi for x in emv.bookings} == {a: 1.62, b: None}  # 113.25 / 70
    assert emv.estimate is True
    # Money in two currencies is never divided: no ROI.
    assert campaign_emv(doc, EmvRates()).roi is None


def test_roi_rounds_half_up() -> None:
    assert roi(1, 8) == 0.13  # 0.125
    assert roi(100, 0) is None


def test_rates_must_be_numbers_at_least_zero_naming_the_field() -> None:
    for bad in (-0.01, "abc", float("nan"), float("inf"), None):
        with pytest.raises(ValidationError) as info:
            EmvRates.merged({"tiktok": {"per_like": bad}})
        assert info.value.errors()[0]["loc"] == ("tiktok", "per_like")
    with pytest.raises(ValidationError):
        EmvRates.merged({"currency": "euro"})


def test_defaults_apply_where_nothing_was_chosen() -> None:
    rates = EmvRates.of_settings({"emv_rates": {"youtube": {"per_share": 1}}})
    assert rates.youtube.per_share == 1
    assert rates.youtube.per_like == DEFAULT_RATES["youtube"].per_like
    assert rates.tiktok == DEFAULT_RATES["tiktok"]
    assert rates.currency == "USD"
