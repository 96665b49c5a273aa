"""The comparison's math (docs/insights.md): percentiles by linear interpolation, a creator's
mid-rank in the set, and which accounts count."""

from __future__ import annotations

from fractions import Fraction

from pulse_gateway.benchmarks import (
    creator_figures,
    percentile,
    percentile_rank,
    rank_creator,
    set_percentiles,
)


def _f(*values: int) -> list[Fraction]:
    return [Fraction(v) for v in values]


def test_percentiles_interpolate_between_closest_ranks() -> None:
    values = _f(40, 10, 30, 20)  # sorted 10 20 30 40; rank = p/100 × 3
    assert percentile(values, 10) == 13.0
    assert percentile(values, 25) == 17.5
    assert percentile(values, 50) == 25.0
    assert percentile(values, 90) == 37.0
    assert percentile(_f(7), 90) == 7.0
    assert percentile([], 50) is None


def test_a_creator_stands_at_the_share_below_plus_half_the_ties() -> None:
    values = _f(10, 20, 20, 40)
    assert percentile_rank(values, Fraction(20)) == 50.0  # 1 below + ½ × 2 equal of 4
    assert percentile_rank(values, Fraction(5)) == 0.0
    assert percentile_rank(values, Fraction(50)) == 100.0
    assert percentile_rank([], Fraction(1)) is None


def test_only_accounts_pulled_fine_with_the_figure_count() -> None:
    accounts = [
        {
            "status": "ok",
            "median_views": 100.0,
            "median_engagement_rate": 5.5,
            "posts_per_week": 2.0,
        },
        {
            "status": "ok",
            "median_views": 300.0,
            "median_engagement_rate": None,
            "posts_per_week": 1.0,
        },
        {"status": "private", "median_views": 9999.0},
        {"status": "unknown_handle"},
    ]
    found = set_percentiles(accounts)
    assert found["median_views"]["accounts"] == 2
    assert found["median_views"]["p50"] == 200.0
    assert found["median_engagement_rate"]["accounts"] == 1
    assert found["follower_growth_pct"] == {
        "p10": None,
        "p25": None,
        "p50": None,
        "p75": None,
        "p90": None,
        "accounts": 0,
    }
    figures = creator_figures(
        [
            {"latest": {"views": 300, "engagement": 30}},
            {"latest": {"views": 0, "engagement": 3}},
            {"latest": None},
        ]
    )
    assert figures["median_views"] == 150.0  # (0 + 300) / 2
    assert figures["median_engagement_rate"] == 10.0  # only the post with views
    ranks = rank_creator(figures, accounts)
    assert ranks["median_views"] == 50.0
    assert ranks["median_engagement_rate"] == 100.0
    assert ranks["posts_per_week"] is None
