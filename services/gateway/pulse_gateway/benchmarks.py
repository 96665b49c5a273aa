"""Competitor benchmarks: a set's accounts beside a campaign's creators, percentile by
percentile (docs/insights.md) — pure, no I/O.

Everything heavy happens before a request: ingest pulls each account daily in the background
and keeps its rollup, and the aggregator keeps each post's latest figures. A comparison only
ranks those precomputed figures (a set holds at most MAX_ACCOUNTS accounts), so it never waits
on the provider: the seed's synchronous competitor analysis called it inside the request.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from pulse_contracts.numbers import round_half_up

MAX_ACCOUNTS = 200
PERCENTILES = (10, 25, 50, 75, 90)
# The figures compared: each account's from its rollup; each creator's from the campaign.
METRICS = (
    "median_views",
    "median_engagement_rate",
    "posts_per_week",
    "follower_growth_pct",
    "view_growth_pct",
)


def _exact(value: float | int) -> Fraction:
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def percentile(values: Sequence[Fraction], p: int) -> float | None:
    """Linear interpolation between closest ranks: rank = p/100 × (n − 1) over sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = Fraction(p, 100) * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round_half_up(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def percentile_rank(values: Sequence[Fraction], x: Fraction) -> float | None:
    """Where `x` stands in the set: 100 × (values below + half the values equal) / n."""
    if not values:
        return None
    below = sum(1 for v in values if v < x)
    equal = sum(1 for v in values if v == x)
    return round_half_up(Fraction(100 * (2 * below + equal), 2 * len(values)))


def set_percentiles(accounts: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per metric, the set's percentiles over accounts pulled fine with that figure known."""
    usable = [a for a in accounts if a.get("status") == "ok"]
    found: dict[str, dict[str, float | None]] = {}
    for metric in METRICS:
        values = [_exact(a[metric]) for a in usable if a.get(metric) is not None]
        found[metric] = {f"p{p}": percentile(values, p) for p in PERCENTILES}
        found[metric]["accounts"] = len(values)
    return found


def creator_figures(posts: Iterable[Mapping[str, Any]]) -> dict[str, float | None]:
    """One creator's figures over their campaign posts with a sample: the median of latest
    views, and the median engagement rate of the posts with views (as for an account)."""
    views: list[Fraction] = []
    rates: list[Fraction] = []
    for post in posts:
        latest = post.get("latest")
        if not latest:
            continue
        views.append(Fraction(latest.get("views") or 0))
        if latest.get("views"):
            rates.append(Fraction(100 * latest["engagement"], latest["views"]))
    return {
        "median_views": round_half_up(statistics.median(views)) if views else None,
        "median_engagement_rate": round_half_up(statistics.median(rates)) if rates else None,
        "posts_per_week": None,
        "follower_growth_pct": None,
        "view_growth_pct": None,
    }


def rank_creator(
    figures: Mapping[str, float | None], accounts: Iterable[Mapping[str, Any]]
) -> dict[str, float | None]:
    usable = [a for a in accounts if a.get("status") == "ok"]
    ranks: dict[str, float | None] = {}
    for metric in METRICS:
        value = figures.get(metric)
        values = [_exact(a[metric]) for a in usable if a.get(metric) is not None]
        ranks[metric] = percentile_rank(values, _exact(value)) if value is not None else None
    return ranks
