"""Hashtags and mentions by docs/insights.md, computed independently of Pulse: from the tags
a test put into its captions (never by parsing them) and each post's latest sample."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID


def latest_samples(samples: Iterable[Mapping[str, Any]]) -> dict[UUID, Mapping[str, Any]]:
    """The sample with the greatest observed_at per post (ties: greater views)."""
    latest: dict[UUID, Mapping[str, Any]] = {}
    for s in samples:
        held = latest.get(s["post_id"])
        if held is None or (s["observed_at"], s["views"] or 0) > (
            held["observed_at"],
            held["views"] or 0,
        ):
            latest[s["post_id"]] = s
    return latest


def oracle_tags(
    *,
    posts: Iterable[Mapping[str, Any]],
    samples: Iterable[Mapping[str, Any]],
    tags_of: Mapping[UUID, tuple[set[str], set[str]]],
    posted_day: Mapping[UUID, date | None],
    first_day: date | None,
    last_day: date | None,
    limit: int = 20,
) -> dict[str, list[dict[str, Any]]]:
    """`posts` are the tracked ones (the test leaves out removed posts and deleted bookings);
    `tags_of` maps a post to the (hashtags, mentions) its caption was written with, already in
    their case-folded forms."""
    latest = latest_samples(samples)
    sums: dict[str, dict[str, list[int]]] = {"hashtags": {}, "mentions": {}}
    for post in posts:
        day = posted_day.get(post["id"])
        bounded = first_day is not None or last_day is not None
        if bounded and (
            day is None
            or (first_day is not None and day < first_day)
            or (last_day is not None and day > last_day)
        ):
            continue
        s = latest.get(post["id"])
        views = (s["views"] or 0) if s else 0
        engagement = sum((s[k] or 0) for k in ("likes", "comments", "shares", "saves")) if s else 0
        hashtags, mentions = tags_of.get(post["id"], (set(), set()))
        for kind, found in (("hashtags", hashtags), ("mentions", mentions)):
            for tag in found:
                acc = sums[kind].setdefault(tag, [0, 0, 0])
                acc[0] += 1
                acc[1] += views
                acc[2] += engagement
    return {
        kind: [
            {"tag": tag, "posts": p, "views": v, "engagement": e, "engagement_rate": _rate(e, v)}
            for tag, (p, v, e) in sorted(
                by_tag.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0])
            )
        ][:limit]
        for kind, by_tag in sums.items()
    }


def _rate(engagement: int, views: int) -> float | None:
    if views == 0:
        return None
    exact = Decimal(100 * engagement) / Decimal(views)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
