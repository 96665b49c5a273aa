"""Independent brute-force KPI oracle: design/kpis.md recomputed from raw samples, for tests.

It shares no code with the aggregator on purpose (no `pulse_aggregator` import): it rescans
every sample for every post and every day, uses Decimal with ROUND_HALF_UP at high precision,
and returns plain dicts shaped like `CampaignNumbers.model_dump(mode="json")`, so a test can
compare a document from any layer (domain, API, event) with `==`.

Usage::

    from tests.oracle.kpi_oracle import oracle_numbers

    expected = oracle_numbers(campaign, bookings, posts, samples, now)
    assert doc.model_dump(mode="json") == expected

Inputs are plain dicts; ids may be UUIDs or strings, dates/datetimes objects or ISO strings:

- campaign: ``id, client_id, name, status, start_date, end_date, budget_cents, currency,
  committed_views, committed_engagement`` (``deleted`` ignored: the caller decides), or None
  when the campaign is not known yet (then pass ``campaign_id=``, or it is taken from the
  bookings and posts when they all agree).
- bookings: ``id, campaign_id, influencer_id, fee_cents, committed_views,
  committed_engagement, committed_posts, min_engagement_rate, deleted``.
- posts: ``id, booking_id, campaign_id, platform, url, posted_at, caption, thumb_url,
  removed``.
- samples: ``post_id, observed_at, views, likes, comments, shares, saves, reach, estimated``;
  missing counters are null, duplicates are harmless.

Rules beyond kpis.md that the aggregator also follows:

- Only bookings and posts of this campaign count; removed posts and posts of deleted bookings
  count nowhere. A post whose booking is unknown counts under a placeholder booking (same id,
  fee 0, no commitments, no influencer) that is listed with the bookings.
- Latest = greatest observed_at; ties: greater views (null as 0), then the counters with null
  below 0, then measured before estimated.
- Summed commitments are null when no booking has one ("n/a" is not a commitment of 0).
- Bookings sorted by id, posts by id, platforms by name; ``today`` is now's UTC date.
- timeline_pct is null when end_date is before start_date.
- Each booking's ``forecast`` and ``recent`` days, and the campaign's ``forecast``, come from
  forecast_oracle (docs/insights.md), null and empty when the campaign is unknown.
- Each booking's ``previous_close`` is its own daily-series close (views_cum, engagement_cum
  over the booking's tracked posts) of the day before now's UTC date, null when the campaign
  is unknown or that day is outside start_date … end_date + 7 days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter

from .forecast_oracle import oracle_forecasts

_DATETIME_JSON = TypeAdapter(datetime)
_COUNTERS = ("views", "likes", "comments", "shares", "saves", "reach")


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _id_str(value: Any) -> str | None:
    return None if value is None else str(_uuid(value))


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _utc_date(ts: datetime) -> date:
    return ts.date() if ts.tzinfo is None else ts.astimezone(UTC).date()


def _midnight_utc(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _dt_json(value: datetime | None) -> Any:
    return None if value is None else _DATETIME_JSON.dump_python(value, mode="json")


def _round2(numerator: Decimal, denominator: Decimal) -> float:
    with localcontext() as ctx:
        # Far more digits than any counter ratio needs, so the division never rounds a
        # .xx4999… into a .xx5 before the half-up step.
        ctx.prec = 80
        return float((numerator / denominator).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _percent(actual: int, committed: int | None) -> float | None:
    if committed is None or committed == 0:
        return None
    return _round2(Decimal(100) * Decimal(actual), Decimal(committed))


def _money_per(fee_cents: int, per: int, multiplier: int) -> float | None:
    if per == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 80
        units = Decimal(fee_cents) / Decimal(100)
        return _round2(units * Decimal(multiplier), Decimal(per))


def _smallest(*values: float | None) -> float | None:
    found = [v for v in values if v is not None]
    if not found:
        return None
    smallest = found[0]
    for v in found[1:]:
        if v < smallest:
            smallest = v
    return smallest


def _engagement(sample: dict[str, Any]) -> int:
    total = 0
    for name in ("likes", "comments", "shares", "saves"):
        if sample.get(name) is not None:
            total += sample[name]
    return total


def _views(sample: dict[str, Any]) -> int:
    return 0 if sample.get("views") is None else int(sample["views"])


def _rank(sample: dict[str, Any]) -> tuple[Any, ...]:
    counters = tuple(-1 if sample.get(n) is None else sample[n] for n in _COUNTERS)
    return (sample["observed_at"], _views(sample), counters, not sample.get("estimated", False))


def _latest(samples: list[dict[str, Any]], before: datetime | None = None) -> dict[str, Any] | None:
    """The latest of `samples` with observed_at < before (all when before is None)."""
    best: dict[str, Any] | None = None
    for s in samples:
        if before is not None and not s["observed_at"] < before:
            continue
        if best is None or _rank(s) > _rank(best):
            best = s
    return best


def _sum_or_none(values: list[int | None]) -> int | None:
    if all(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def _kpis(
    *,
    committed_views: int | None,
    committed_engagement: int | None,
    committed_posts: int | None,
    views: int,
    engagement: int,
    posts: int,
    money_cents: int,
) -> dict[str, Any]:
    views_pct = _percent(views, committed_views)
    engagement_pct = _percent(engagement, committed_engagement)
    posts_pct = _percent(posts, committed_posts)
    return {
        "committed_views": committed_views,
        "committed_engagement": committed_engagement,
        "committed_posts": committed_posts,
        "actual_views": views,
        "actual_engagement": engagement,
        "actual_posts": posts,
        "views_pct": views_pct,
        "engagement_pct": engagement_pct,
        "posts_pct": posts_pct,
        "kpi_pct": _smallest(views_pct, engagement_pct, posts_pct),
        "engagement_rate": _percent(engagement, views) if views else None,
        "cpm": _money_per(money_cents, views, 1000),
        "cpe": _money_per(money_cents, engagement, 1),
    }


def _timeline(start_date: date, end_date: date, now: datetime) -> float | None:
    start = _midnight_utc(start_date)
    end = _midnight_utc(end_date) + timedelta(days=1)
    total = end - start
    if total <= timedelta(0):
        return None
    elapsed = now - start

    def micros(td: timedelta) -> int:
        return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds

    fraction_num, fraction_den = micros(elapsed), micros(total)
    if fraction_num < 0:
        fraction_num = 0
    if fraction_num > fraction_den:
        fraction_num = fraction_den
    return _round2(Decimal(100) * Decimal(fraction_num), Decimal(fraction_den))


def _resolve_campaign_id(
    campaign: dict[str, Any] | None,
    bookings: list[dict[str, Any]],
    posts: list[dict[str, Any]],
    campaign_id: Any,
) -> UUID:
    if campaign_id is not None:
        return _uuid(campaign_id)
    if campaign is not None:
        return _uuid(campaign["id"])
    seen = {_uuid(x["campaign_id"]) for x in [*bookings, *posts]}
    if len(seen) != 1:
        raise ValueError("campaign is None: pass campaign_id= (bookings and posts disagree)")
    return seen.pop()


def oracle_numbers(
    campaign: dict[str, Any] | None,
    bookings: list[dict[str, Any]],
    posts: list[dict[str, Any]],
    samples: list[dict[str, Any]],
    now: datetime,
    *,
    campaign_id: Any = None,
) -> dict[str, Any]:
    """The campaign's whole number state at `now`, as `CampaignNumbers.model_dump(mode="json")`.

    Covers every field of the document: campaign figures, bookings, posts with their latest
    counters, the daily series (campaign level; empty without a campaign) and the platform
    split, plus as_of = now.
    """
    cid = _resolve_campaign_id(campaign, bookings, posts, campaign_id)

    # Bookings of this campaign, by id; deleted ones stay known so their posts are excluded.
    known_bookings: dict[UUID, dict[str, Any]] = {}
    for b in bookings:
        if _uuid(b["campaign_id"]) == cid:
            known_bookings[_uuid(b["id"])] = b

    tracked_posts: dict[UUID, dict[str, Any]] = {}
    for p in posts:
        if _uuid(p["campaign_id"]) != cid or p.get("removed", False):
            continue
        booking = known_bookings.get(_uuid(p["booking_id"]))
        if booking is not None and booking.get("deleted", False):
            continue
        tracked_posts[_uuid(p["id"])] = p

    listed_bookings: dict[UUID, dict[str, Any]] = {
        bid: b for bid, b in known_bookings.items() if not b.get("deleted", False)
    }
    for p in tracked_posts.values():
        bid = _uuid(p["booking_id"])
        if bid not in listed_bookings:
            listed_bookings[bid] = {
                "id": bid,
                "campaign_id": cid,
                "influencer_id": None,
                "fee_cents": 0,
                "committed_views": None,
                "committed_engagement": None,
                "committed_posts": None,
                "min_engagement_rate": None,
            }

    # Every sample of every tracked post, with observed_at parsed.
    samples_of: dict[UUID, list[dict[str, Any]]] = {pid: [] for pid in tracked_posts}
    for s in samples:
        pid = _uuid(s["post_id"])
        if pid in samples_of:
            samples_of[pid].append({**s, "observed_at": _datetime(s["observed_at"])})

    latest_of = {pid: _latest(samples_of[pid]) for pid in tracked_posts}

    # Each booking's close of the day before now's date, when the daily series has that day.
    close_day: date | None = None
    if campaign is not None:
        yesterday = _utc_date(now) - timedelta(days=1)
        if (
            _date(campaign["start_date"])
            <= yesterday
            <= _date(campaign["end_date"]) + timedelta(days=7)
        ):
            close_day = yesterday

    # Bookings.
    booking_docs: list[dict[str, Any]] = []
    for bid in sorted(listed_bookings, key=str):
        b = listed_bookings[bid]
        views = engagement = posted = close_views = close_engagement = 0
        for pid, p in tracked_posts.items():
            if _uuid(p["booking_id"]) != bid:
                continue
            latest = latest_of[pid]
            if latest is not None:
                views += _views(latest)
                engagement += _engagement(latest)
                posted += 1
            if close_day is not None:
                held = _latest(samples_of[pid], before=_midnight_utc(close_day + timedelta(days=1)))
                if held is not None:
                    close_views += _views(held)
                    close_engagement += _engagement(held)
        doc = _kpis(
            committed_views=b.get("committed_views"),
            committed_engagement=b.get("committed_engagement"),
            committed_posts=b.get("committed_posts"),
            views=views,
            engagement=engagement,
            posts=posted,
            money_cents=b["fee_cents"],
        )
        booking_docs.append(
            {
                **doc,
                "booking_id": str(bid),
                "influencer_id": _id_str(b.get("influencer_id")),
                "fee_cents": b["fee_cents"],
                "min_engagement_rate": b.get("min_engagement_rate"),
                "previous_close": None
                if close_day is None
                else {
                    "date": close_day.isoformat(),
                    "views_cum": close_views,
                    "engagement_cum": close_engagement,
                },
            }
        )

    # Campaign.
    total_views = sum(b["actual_views"] for b in booking_docs)
    total_engagement = sum(b["actual_engagement"] for b in booking_docs)
    total_posts = sum(b["actual_posts"] for b in booking_docs)
    spend = sum(b["fee_cents"] for b in booking_docs)
    own_views = campaign.get("committed_views") if campaign else None
    own_engagement = campaign.get("committed_engagement") if campaign else None
    committed_views = (
        own_views
        if own_views is not None and own_views > 0
        else _sum_or_none([b["committed_views"] for b in booking_docs])
    )
    committed_engagement = (
        own_engagement
        if own_engagement is not None and own_engagement > 0
        else _sum_or_none([b["committed_engagement"] for b in booking_docs])
    )
    campaign_doc = {
        **_kpis(
            committed_views=committed_views,
            committed_engagement=committed_engagement,
            committed_posts=_sum_or_none([b["committed_posts"] for b in booking_docs]),
            views=total_views,
            engagement=total_engagement,
            posts=total_posts,
            money_cents=spend,
        ),
        "campaign_id": str(cid),
        "client_id": _id_str(campaign.get("client_id")) if campaign else None,
        "name": campaign.get("name") if campaign else None,
        "status": campaign.get("status") if campaign else None,
        "start_date": None,
        "end_date": None,
        "currency": campaign.get("currency") if campaign else None,
        "budget_cents": campaign.get("budget_cents") if campaign else None,
        "spend_cents": spend,
        "timeline_pct": None,
    }

    # Daily series: rescan every post's samples for every day.
    daily: list[dict[str, Any]] = []
    if campaign is not None:
        start_date, end_date = _date(campaign["start_date"]), _date(campaign["end_date"])
        campaign_doc["start_date"] = start_date.isoformat()
        campaign_doc["end_date"] = end_date.isoformat()
        campaign_doc["timeline_pct"] = _timeline(start_date, end_date, now)
        today = _utc_date(now)
        last = end_date + timedelta(days=7)
        if today < last:
            last = today
        previous_views = previous_engagement = 0
        d = start_date
        while d <= last:
            cutoff = _midnight_utc(d) + timedelta(days=1)
            views_cum = engagement_cum = live = 0
            for pid in tracked_posts:
                held = _latest(samples_of[pid], before=cutoff)
                if held is not None:
                    views_cum += _views(held)
                    engagement_cum += _engagement(held)
                    live += 1
            daily.append(
                {
                    "date": d.isoformat(),
                    "views_cum": views_cum,
                    "views_delta": views_cum - previous_views,
                    "engagement_cum": engagement_cum,
                    "engagement_delta": engagement_cum - previous_engagement,
                    "posts_live": live,
                }
            )
            previous_views, previous_engagement = views_cum, engagement_cum
            d += timedelta(days=1)

    # Delivery forecast (docs/insights.md), from the same raw samples by its own oracle.
    for b in booking_docs:
        b["forecast"], b["recent"] = None, []
    campaign_doc["forecast"] = None
    if campaign is not None:
        by_booking, campaign_doc["forecast"] = oracle_forecasts(
            _date(campaign["start_date"]),
            _date(campaign["end_date"]),
            now,
            [
                {
                    "id": b["booking_id"],
                    "committed_views": b["committed_views"],
                    "committed_engagement": b["committed_engagement"],
                    "committed_posts": b["committed_posts"],
                    "views": b["actual_views"],
                    "engagement": b["actual_engagement"],
                    "posts": b["actual_posts"],
                    "samples": [
                        samples_of[pid]
                        for pid, p in tracked_posts.items()
                        if _id_str(p["booking_id"]) == b["booking_id"]
                    ],
                }
                for b in booking_docs
            ],
        )
        for b in booking_docs:
            b["forecast"], b["recent"] = by_booking[b["booking_id"]]

    # Posts and platform split.
    post_docs: list[dict[str, Any]] = []
    split: dict[str, list[int]] = {}
    for pid in sorted(tracked_posts, key=str):
        p = tracked_posts[pid]
        latest = latest_of[pid]
        booking = listed_bookings[_uuid(p["booking_id"])]
        post_docs.append(
            {
                "post_id": str(pid),
                "booking_id": _id_str(p["booking_id"]),
                "influencer_id": _id_str(booking.get("influencer_id")),
                "platform": p["platform"],
                "url": p.get("url"),
                "posted_at": _dt_json(_datetime(p.get("posted_at"))),
                "caption": p.get("caption"),
                "thumb_url": p.get("thumb_url"),
                "latest": None
                if latest is None
                else {
                    "observed_at": _dt_json(latest["observed_at"]),
                    **{name: latest.get(name) for name in _COUNTERS},
                    "engagement": _engagement(latest),
                    "estimated": bool(latest.get("estimated", False)),
                },
            }
        )
        totals = split.setdefault(p["platform"], [0, 0])
        if latest is not None:
            totals[0] += _views(latest)
            totals[1] += _engagement(latest)

    # Creators: every listed booking under its influencer (or on its own without one), their
    # figures recounted from the posts' latest samples rather than from the booking sums.
    creator_of = {
        bid: _id_str(b.get("influencer_id")) or str(bid) for bid, b in listed_bookings.items()
    }
    creators: dict[str, dict[str, Any]] = {}
    for bid in listed_bookings:
        key = creator_of[bid]
        entry = creators.setdefault(
            key,
            {
                "influencer_id": _id_str(listed_bookings[bid].get("influencer_id")),
                "booking_ids": [],
                "actual_views": 0,
                "actual_engagement": 0,
                "actual_posts": 0,
            },
        )
        entry["booking_ids"].append(str(bid))
    for pid, p in tracked_posts.items():
        latest = latest_of[pid]
        if latest is not None:
            entry = creators[creator_of[_uuid(p["booking_id"])]]
            entry["actual_views"] += _views(latest)
            entry["actual_engagement"] += _engagement(latest)
            entry["actual_posts"] += 1
    creator_docs = []
    for key in sorted(creators, key=lambda k: (-creators[k]["actual_views"], k)):
        entry = creators[key]
        views, engagement = entry["actual_views"], entry["actual_engagement"]
        entry["booking_ids"].sort()
        entry["engagement_rate"] = _percent(engagement, views) if views else None
        creator_docs.append(entry)

    return {
        "campaign": campaign_doc,
        "bookings": booking_docs,
        "posts": post_docs,
        "daily": daily,
        "platforms": [
            {"platform": name, "views": split[name][0], "engagement": split[name][1]}
            for name in sorted(split)
        ],
        "creators": creator_docs,
        "as_of": _dt_json(now),
        # Earned media value is valued by the gateway when it serves a document (docs/insights.md),
        # never by the aggregator: the document it computes carries none.
        "emv": None,
    }
