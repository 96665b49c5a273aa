"""Independent delivery-forecast oracle: docs/insights.md recomputed from raw samples, for tests.

Like kpi_oracle it shares no code with the services (no `pulse_contracts.forecast` import): it
rescans every sample for every day it needs, writes each sum as a plain loop, and keeps every
figure an exact Fraction until the final half-up rounding, so its results equal the document's
to the unit. The constants are copied from docs/insights.md on purpose.

Usage (kpi_oracle.oracle_numbers calls it for every document)::

    bookings_out, campaign_out = oracle_forecasts(start, end, now, bookings)

`bookings` is a list of dicts: ``id``, ``committed_views``, ``committed_engagement``,
``committed_posts``, ``views``, ``engagement``, ``posts`` (the booking's actuals) and
``samples`` — a list per tracked post of that post's samples (dicts with ``observed_at`` as a
datetime, ``views``, ``likes``, ``comments``, ``shares``, ``saves``; null counts as 0). It
returns, per booking id, ``(forecast, recent)`` shaped as the document's JSON, and the
campaign's forecast.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

WINDOW = 4
PRIOR = Fraction(13, 20)
LOWEST, HIGHEST = Fraction(1, 20), Fraction(9, 10)
TAIL_LOW, TAIL_HIGH = Fraction(1, 2), Fraction(3, 2)
COMING_LOW, COMING_HIGH = Fraction(0), Fraction(3, 2)
DAY = timedelta(days=1)


def _eng(s: dict[str, Any]) -> int:
    return sum(s.get(k) or 0 for k in ("likes", "comments", "shares", "saves"))


def _rank(s: dict[str, Any]) -> tuple[Any, ...]:
    counters = tuple(
        -1 if s.get(k) is None else s[k]
        for k in ("views", "likes", "comments", "shares", "saves", "reach")
    )
    return (s["observed_at"], s.get("views") or 0, counters, not s.get("estimated", False))


def _close(samples: list[dict[str, Any]], d: date) -> dict[str, Any] | None:
    cutoff = datetime.combine(d + DAY, time(0), UTC)
    before = [s for s in samples if s["observed_at"] < cutoff]
    return max(before, key=_rank) if before else None


class _Booking:
    """One booking's brute-force series: every value rescans every sample."""

    def __init__(self, b: dict[str, Any], start: date) -> None:
        self.b = b
        self.start = start

    def value(self, metric: str, d: date) -> int:
        if d < self.start:
            return 0
        total = 0
        for samples in self.b["samples"]:
            held = _close(samples, d)
            if held is not None:
                total += (held.get("views") or 0) if metric == "views" else _eng(held)
        return total

    def live(self, d: date) -> int:
        if d < self.start:
            return 0
        return sum(1 for samples in self.b["samples"] if _close(samples, d) is not None)

    def went_live(self, d: date) -> bool:
        return self.live(d) > self.live(d - DAY)


def _decay(later: int, earlier: int) -> Fraction:
    # √(later / earlier) to 4 decimals, rounded down: the largest n with n² ≤ later·10⁸/earlier.
    target = later * 10**8 // earlier if later > 0 else 0
    n = 0
    step = 1 << 40
    while step:
        if (n + step) ** 2 <= target:
            n += step
        step >>= 1
    x = Fraction(n, 10000)
    if x < LOWEST:
        x = LOWEST
    if x > HIGHEST:
        x = HIGHEST
    return x


def _units(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def _gain_days(bk: _Booking, today: date) -> list[date]:
    yesterday = today - DAY
    if bk.live(yesterday) == 0:
        return []
    lowest_searched = max(bk.start, today - timedelta(days=WINDOW))
    days = []
    d = today - timedelta(days=WINDOW)
    while d <= yesterday:
        later_go_live = any(
            bk.went_live(g)
            for g in (d + timedelta(days=i) for i in range((yesterday - d).days + 1))
            if g >= lowest_searched
        )
        if d >= bk.start + DAY and not later_go_live:
            days.append(d)
        d += DAY
    return days


def oracle_forecasts(
    start: date, end: date, now: datetime, bookings: list[dict[str, Any]]
) -> tuple[dict[str, tuple[dict[str, Any] | None, list[dict[str, Any]]]], dict[str, Any] | None]:
    today = now.astimezone(UTC).date()
    out: dict[str, tuple[dict[str, Any] | None, list[dict[str, Any]]]] = {}
    if end < start:
        return {str(b["id"]): (None, []) for b in bookings}, None
    books = {str(b["id"]): _Booking(b, start) for b in bookings}
    if today > end:
        total: dict[str, int] = {"views": 0, "engagement": 0, "posts": 0}
        for bid, bk in books.items():
            v, e, p = bk.value("views", end), bk.value("engagement", end), bk.live(end)
            total["views"] += v
            total["engagement"] += e
            total["posts"] += p
            out[bid] = (_final(v, e, p), [])
        final = _final(total["views"], total["engagement"], total["posts"]) if books else None
        return out, final

    # Per booking and metric: gains, own decay, what the live posts still gain, anchor.
    enough = {
        bid: today - 2 * DAY >= start and bk.live(today - 2 * DAY) > 0 for bid, bk in books.items()
    }
    shapes: dict[tuple[str, str], dict[str, Any]] = {}
    for bid, bk in books.items():
        b = bk.b
        days = _gain_days(bk, today)
        d1, d4 = today - DAY, today - timedelta(days=WINDOW)  # the window's four full days
        went = [d for d in (d4 + timedelta(days=i) for i in range(WINDOW)) if bk.went_live(d)]
        if went:
            # A post went live in the window: the creator's decay is read on the four full
            # days before that go-live day instead, from its older posts.
            d1 = max(went) - DAY
            d4 = d1 - timedelta(days=WINDOW - 1)
        quiet = d4 - DAY >= start and bk.live(d4 - DAY) > 0
        for d in [d4 + timedelta(days=i) for i in range(WINDOW)]:
            quiet = quiet and bk.live(d) == bk.live(d4 - DAY)
        for metric in ("views", "engagement"):
            actual = b[metric]
            rate = PRIOR
            if quiet:
                earlier = bk.value(metric, d4 + DAY) - bk.value(metric, d4 - DAY)
                later = bk.value(metric, d1) - bk.value(metric, d4 + DAY)
                if earlier > 0:
                    rate = _decay(later, earlier)
            gains = [bk.value(metric, d) - bk.value(metric, d - DAY) for d in days]
            if gains:
                divisor = Fraction(0)
                for j in range(len(gains)):
                    divisor += Fraction(1) / rate**j
                level = max(Fraction(sum(gains)) / divisor, Fraction(0))
                still = level * rate / (1 - rate)
                anchor, base = today - DAY, bk.value(metric, today - DAY)
            else:
                newest = None
                d = today
                while d >= max(start, today - timedelta(days=WINDOW)):
                    if bk.went_live(d):
                        newest = d
                        break
                    d -= DAY
                still = Fraction(0)
                if newest is not None:
                    age = (today - newest).days + 1
                    gained = Fraction(max(actual - bk.value(metric, newest - DAY), 0))
                    still = gained * rate**age / (1 - rate**age)
                anchor, base = today, actual

            def at(d: date, still: Fraction = still, rate: Fraction = rate, base: int = base,
                   anchor: date = anchor, actual: int = actual) -> Fraction:  # fmt: skip
                k = (d - anchor).days
                return max(base + still * (1 - rate**k), Fraction(actual))

            pace = still * (1 - rate) / rate
            shapes[bid, metric] = {
                "rate": rate,
                "at": at,
                "eventual": base + still,
                "steady": base + pace * (end - anchor).days,
            }

    counted = [bid for bid in books if enough[bid] and books[bid].b["posts"] > 0]
    campaign_typical = {}
    for metric in ("views", "engagement"):
        if counted:
            campaign_typical[metric] = sum(
                (shapes[bid, metric]["eventual"] for bid in counted), Fraction(0)
            ) / sum(books[bid].b["posts"] for bid in counted)
        else:
            campaign_typical[metric] = Fraction(0)

    exact: dict[str, dict[str, Any]] = {}
    span = (end - today).days + 1
    for bid, bk in books.items():
        b = bk.b
        missing = (b["committed_posts"] or 0) - b["posts"]
        if missing < 0:
            missing = 0
        row: dict[str, Any] = {}
        for metric in ("views", "engagement"):
            shape = shapes[bid, metric]
            committed = b["committed_" + metric]
            if (
                metric == "engagement"
                and b["views"] > 0
                and b["committed_views"]
                and b["committed_posts"]
            ):
                # Engagement per view of the booking's posts so far, at the committed views.
                per_view = Fraction(b["engagement"], b["views"])
                typical = per_view * b["committed_views"] / b["committed_posts"]
            elif committed and b["committed_posts"]:
                typical = Fraction(committed, b["committed_posts"])
            elif enough[bid] and b["posts"] > 0:
                typical = shape["eventual"] / b["posts"]
            else:
                typical = campaign_typical[metric]
            # A post to come goes live on any of the span days left with equal chance, and by
            # the end holds 1 − rate^d of its whole for the d days it has had (1 ≤ d ≤ span).
            share = Fraction(0)
            for d_had in range(1, span + 1):
                share += 1 - shape["rate"] ** d_had
            coming = missing * typical * share / span
            at_end = shape["at"](end)
            row[metric] = at_end + coming
            row[metric + "_low"] = b[metric] + (at_end - b[metric]) * TAIL_LOW + coming * COMING_LOW
            row[metric + "_high"] = (
                max(b[metric] + (at_end - b[metric]) * TAIL_HIGH, shape["steady"])
                + coming * COMING_HIGH
            )
            if metric == "views":
                row["path"] = {
                    today + timedelta(days=i): shape["at"](today + timedelta(days=i))
                    + coming * Fraction(i + 1, span)
                    for i in range(span)
                }
        row["posts"] = b["posts"] + missing
        row["posts_low"] = b["posts"]
        row["posts_high"] = b["posts"] + missing
        exact[bid] = row
        recent = []
        d = max(start, today - timedelta(days=2 * WINDOW + 2))
        while d <= today:
            recent.append(
                {
                    "date": d.isoformat(),
                    "views_cum": bk.value("views", d),
                    "views_delta": bk.value("views", d) - bk.value("views", d - DAY),
                    "engagement_cum": bk.value("engagement", d),
                    "engagement_delta": bk.value("engagement", d) - bk.value("engagement", d - DAY),
                    "posts_live": bk.live(d),
                }
            )
            d += DAY
        out[bid] = (_projected(row) if enough[bid] else _not_enough(), recent)

    if not books:
        return out, None
    summed: dict[str, Any] = {"path": {}}
    for row in exact.values():
        row = {
            k: ({d: Fraction(_units(v)) for d, v in val.items()} if k == "path" else val)
            if k == "path" or k.startswith("posts")
            else Fraction(_units(val))
            for k, val in row.items()
        }
        for key, value in row.items():
            if key == "path":
                for d, v in value.items():
                    summed["path"][d] = summed["path"].get(d, Fraction(0)) + v
            else:
                summed[key] = summed.get(key, 0) + value
    campaign = _projected(summed) if any(enough.values()) else _not_enough()
    return out, campaign


def _not_enough() -> dict[str, Any]:
    return {
        "status": "not_enough_data",
        **{
            f"{m}{suffix}": None
            for m in ("views", "engagement", "posts")
            for suffix in ("", "_low", "_high")
        },
        "path": [],
    }


def _final(views: int, engagement: int, posts: int) -> dict[str, Any]:
    figures = {"views": views, "engagement": engagement, "posts": posts}
    return {
        "status": "final",
        **{f"{m}{suffix}": v for m, v in figures.items() for suffix in ("", "_low", "_high")},
        "path": [],
    }


def _projected(row: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"status": "projected"}
    for m in ("views", "engagement"):
        for suffix in ("", "_low", "_high"):
            doc[m + suffix] = _units(row[m + suffix])
    for suffix in ("", "_low", "_high"):
        doc["posts" + suffix] = row["posts" + suffix]
    doc["path"] = [
        {"date": d.isoformat(), "views_cum": _units(v)} for d, v in sorted(row["path"].items())
    ]
    return doc
