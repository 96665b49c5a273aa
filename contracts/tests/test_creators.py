"""Creators in the numbers document: one rule for every reader (CreatorNumbers' docstring)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from fractions import Fraction
from uuid import UUID

from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    creator_figures,
    engagement_rate,
    post_display_order,
    round_half_up,
)

MAYA, LEO = UUID(int=0x301), UUID(int=0x302)
B1, B2, B3, B4 = (UUID(int=0x400 + i) for i in range(1, 5))


def _booking(booking_id: UUID, influencer_id: UUID | None, views: int, eng: int, posts: int):
    return BookingNumbers(
        booking_id=booking_id,
        influencer_id=influencer_id,
        actual_views=views,
        actual_engagement=eng,
        actual_posts=posts,
    )


def test_a_creator_sums_their_bookings_and_rates_the_sum_not_the_average() -> None:
    maya_a = _booking(B1, MAYA, 300_000, 21_000, 2)
    maya_b = _booking(B2, MAYA, 30_000, 1_000, 1)
    leo = _booking(B3, LEO, 120_000, 9_000, 1)
    maya, leo_ = creator_figures([leo, maya_b, maya_a])
    assert (maya.influencer_id, maya.booking_ids) == (MAYA, [B1, B2])
    assert (maya.actual_views, maya.actual_engagement, maya.actual_posts) == (330_000, 22_000, 3)
    # 100 × 22,000 / 330,000 = 6.666… → 6.67; the mean of 7.0 and 3.33 would be 5.17.
    assert maya.engagement_rate == 6.67
    assert (leo_.influencer_id, leo_.actual_views, leo_.engagement_rate) == (LEO, 120_000, 7.5)


def test_a_booking_without_a_known_creator_is_an_entry_of_its_own() -> None:
    unknown_a = _booking(B1, None, 10, 1, 1)
    unknown_b = _booking(B2, None, 10, 1, 1)
    creators = creator_figures([unknown_a, unknown_b])
    assert [c.booking_ids for c in creators] == [[B1], [B2]]
    assert all(c.influencer_id is None for c in creators)


def test_creators_come_most_views_first_and_no_views_has_no_rate() -> None:
    quiet = _booking(B4, LEO, 0, 0, 0)
    loud = _booking(B1, MAYA, 5, 1, 1)
    first, second = creator_figures([quiet, loud])
    assert (first.influencer_id, second.influencer_id) == (MAYA, LEO)
    assert second.engagement_rate is None
    assert engagement_rate(1, 3) == 33.33
    assert engagement_rate(2, 3) == 66.67
    assert engagement_rate(5, 0) is None


def test_a_document_stored_before_creators_existed_gets_them_by_the_same_rule() -> None:
    old = {
        "campaign": CampaignFigures(campaign_id=UUID(int=1)).model_dump(mode="json"),
        "bookings": [
            _booking(B1, MAYA, 100, 10, 1).model_dump(mode="json"),
            _booking(B2, MAYA, 50, 5, 1).model_dump(mode="json"),
        ],
        "as_of": "2026-11-20T12:00:00Z",
    }
    doc = CampaignNumbers.model_validate(old)
    assert [(c.influencer_id, c.actual_views, c.engagement_rate) for c in doc.creators] == [
        (MAYA, 150, 10.0)
    ]


def test_posts_are_listed_oldest_first_and_not_yet_live_last() -> None:
    early = datetime(2026, 11, 1, tzinfo=UTC)
    late = datetime(2026, 11, 5, tzinfo=UTC)
    posts = [
        (None, "instagram", "https://i/1"),
        (late, "instagram", "https://i/2"),
        (early, "tiktok", "https://t/1"),
        (early, "instagram", "https://i/3"),
    ]
    ordered = sorted(posts, key=lambda p: post_display_order(*p))
    assert ordered == [posts[3], posts[2], posts[1], posts[0]]


def test_rounding_in_integers_agrees_with_the_exact_fraction_everywhere() -> None:
    # round_half_up and engagement_rate round in integers; this is the Fraction definition.
    def by_fraction(value: Fraction) -> float:
        units = math.floor(abs(value) * 100 + Fraction(1, 2))
        return float(Fraction(units if value >= 0 else -units, 100))

    rng = random.Random(18)
    for _ in range(20_000):
        value = Fraction(rng.randint(-(10**9), 10**9), rng.randint(1, 10**7))
        assert round_half_up(value) == by_fraction(value), value
        engagement, views = rng.randint(0, 10**8), rng.randint(1, 10**9)
        assert engagement_rate(engagement, views) == by_fraction(Fraction(100 * engagement, views))
    # Exact halves round away from zero.
    assert round_half_up(Fraction(12345, 1000)) == 12.35
    assert round_half_up(Fraction(-12345, 1000)) == -12.35
    assert engagement_rate(1, 8) == 12.5
    assert engagement_rate(1, 800) == 0.13
