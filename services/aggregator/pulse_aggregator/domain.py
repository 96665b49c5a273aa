"""Campaign numbers (design/kpis.md): the KPI formulas and the whole `kpi.updated` document,
assembled from the inputs (inputs.py) and the daily steps (series.py). Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from uuid import UUID

from pulse_contracts.forecast import RECENT_DAYS
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    DailyClose,
    DailyPoint,
    LatestCounters,
    PlatformSplit,
    PostNumbers,
    creator_figures,
    engagement_rate,
    previous_close_day,
    round_half_up,
    timeline_pct,
    with_forecast,
)
from pulse_contracts.values import Platform

from .inputs import BookingRef, CampaignRef, Point, PostRef, day_of, engagement, newer
from .series import Step, Steps, add_steps, daily_series, post_steps, series_from_steps, steps_until

_ONE_DAY = timedelta(days=1)


# --- rounding and ratios ----------------------------------------------------------------------


def _ratio(numerator: int, denominator: int | None, scale: int = 1) -> float | None:
    """scale × numerator / denominator rounded to 2 decimals; None on a null or zero denominator."""
    if not denominator:
        return None
    return round_half_up(Fraction(numerator * scale, denominator))


def pct(actual: int, committed: int | None) -> float | None:
    """100 × actual / committed, 2 decimals half up; None when committed is None or 0."""
    return _ratio(actual, committed, 100)


def cpm(fee_cents: int, actual_views: int) -> float | None:
    """(fee_cents / 100) / views × 1000, in the currency's units; None without views."""
    return _ratio(fee_cents * 10, actual_views)


def cpe(fee_cents: int, actual_engagement: int) -> float | None:
    """(fee_cents / 100) / engagement, in the currency's units; None without engagement."""
    return _ratio(fee_cents, actual_engagement * 100)


def kpi_pct(*pcts: float | None) -> float | None:
    """The weakest commitment: the smallest non-null pct, None when there is none."""
    present = [p for p in pcts if p is not None]
    return min(present) if present else None


# --- campaign numbers -------------------------------------------------------------------------


def _placeholder_booking(booking_id: UUID, campaign_id: UUID) -> BookingRef:
    # A post can arrive before its booking's catalog event; counting it under a fee-less booking
    # without commitments keeps every sample in the totals until the real booking lands.
    return BookingRef(
        id=booking_id,
        campaign_id=campaign_id,
        influencer_id=None,
        fee_cents=0,
        committed_views=None,
        committed_engagement=None,
        committed_posts=None,
        min_engagement_rate=None,
    )


def _tracked(
    campaign_id: UUID, bookings: Sequence[BookingRef], posts: Sequence[PostRef]
) -> tuple[dict[UUID, BookingRef], dict[UUID, PostRef]]:
    """The campaign's live bookings (with placeholders) and its tracked posts, by id."""
    known = {b.id: b for b in bookings if b.campaign_id == campaign_id}
    live_bookings = {b.id: b for b in known.values() if not b.deleted}
    tracked: dict[UUID, PostRef] = {}
    for post in posts:
        if post.campaign_id != campaign_id or post.removed:
            continue
        booking = known.get(post.booking_id)
        if booking is None:
            live_bookings[post.booking_id] = _placeholder_booking(post.booking_id, campaign_id)
        elif booking.deleted:
            continue
        tracked[post.id] = post
    return live_bookings, tracked


def _post_points(
    post_id: UUID, latest: Mapping[UUID, Point], closes: Mapping[UUID, Sequence[Point]]
) -> list[Point]:
    # The latest is also its day's close; merging both keeps latest and series consistent even
    # when the caller's two views of the samples are momentarily out of step.
    points = list(closes.get(post_id, ()))
    held = latest.get(post_id)
    if held is not None:
        points.append(held)
    return points


def _latest_of(points: Iterable[Point]) -> Point | None:
    best: Point | None = None
    for p in points:
        if best is None or newer(p, best):
            best = p
    return best


def _sum_committed(values: Iterable[int | None]) -> int | None:
    # "n/a" is not a commitment of 0: the sum is None when no booking commits at all.
    present = [v for v in values if v is not None]
    return sum(present) if present else None


@dataclass(frozen=True, slots=True)
class _Actuals:
    views: int = 0
    engagement: int = 0
    posts: int = 0


def _actuals(points: Iterable[Point | None]) -> _Actuals:
    views = eng = posts = 0
    for p in points:
        if p is not None:
            views += p.views or 0
            eng += engagement(p)
            posts += 1
    return _Actuals(views, eng, posts)


def _booking_close(day: date | None, steps: Mapping[date, Step]) -> DailyClose | None:
    # The steps summed up to a day are the sums of each post's close of that day.
    if day is None:
        return None
    close = steps_until(day, steps)
    return DailyClose(date=day, views_cum=close.views, engagement_cum=close.engagement)


def _booking_numbers(
    booking: BookingRef, actual: _Actuals, previous_close: DailyClose | None = None
) -> BookingNumbers:
    views_pct = pct(actual.views, booking.committed_views)
    engagement_pct = pct(actual.engagement, booking.committed_engagement)
    posts_pct = pct(actual.posts, booking.committed_posts)
    return BookingNumbers(
        booking_id=booking.id,
        influencer_id=booking.influencer_id,
        fee_cents=booking.fee_cents,
        min_engagement_rate=booking.min_engagement_rate,
        committed_views=booking.committed_views,
        committed_engagement=booking.committed_engagement,
        committed_posts=booking.committed_posts,
        actual_views=actual.views,
        actual_engagement=actual.engagement,
        actual_posts=actual.posts,
        views_pct=views_pct,
        engagement_pct=engagement_pct,
        posts_pct=posts_pct,
        kpi_pct=kpi_pct(views_pct, engagement_pct, posts_pct),
        engagement_rate=engagement_rate(actual.engagement, actual.views),
        cpm=cpm(booking.fee_cents, actual.views),
        cpe=cpe(booking.fee_cents, actual.engagement),
        previous_close=previous_close,
    )


def _campaign_figures(
    campaign: CampaignRef | None,
    campaign_id: UUID,
    bookings: Sequence[BookingNumbers],
    now: datetime,
) -> CampaignFigures:
    views = sum(b.actual_views for b in bookings)
    eng = sum(b.actual_engagement for b in bookings)
    posts = sum(b.actual_posts for b in bookings)
    spend = sum(b.fee_cents for b in bookings)
    # The campaign's own commitment wins only when it says something (> 0).
    own_views = campaign.committed_views if campaign is not None else None
    own_engagement = campaign.committed_engagement if campaign is not None else None
    committed_views = (
        own_views
        if own_views is not None and own_views > 0
        else _sum_committed(b.committed_views for b in bookings)
    )
    committed_engagement = (
        own_engagement
        if own_engagement is not None and own_engagement > 0
        else _sum_committed(b.committed_engagement for b in bookings)
    )
    committed_posts = _sum_committed(b.committed_posts for b in bookings)
    views_pct = pct(views, committed_views)
    engagement_pct = pct(eng, committed_engagement)
    posts_pct = pct(posts, committed_posts)
    return CampaignFigures(
        campaign_id=campaign_id,
        client_id=campaign.client_id if campaign is not None else None,
        name=campaign.name if campaign is not None else None,
        status=campaign.status if campaign is not None else None,
        start_date=campaign.start_date if campaign is not None else None,
        end_date=campaign.end_date if campaign is not None else None,
        currency=campaign.currency if campaign is not None else None,
        budget_cents=campaign.budget_cents if campaign is not None else None,
        timeline_pct=(
            timeline_pct(campaign.start_date, campaign.end_date, now)
            if campaign is not None
            else None
        ),
        spend_cents=spend,
        committed_views=committed_views,
        committed_engagement=committed_engagement,
        committed_posts=committed_posts,
        actual_views=views,
        actual_engagement=eng,
        actual_posts=posts,
        views_pct=views_pct,
        engagement_pct=engagement_pct,
        posts_pct=posts_pct,
        kpi_pct=kpi_pct(views_pct, engagement_pct, posts_pct),
        engagement_rate=engagement_rate(eng, views),
        cpm=cpm(spend, views),
        cpe=cpe(spend, eng),
    )


def _latest_counters(p: Point) -> LatestCounters:
    return LatestCounters(
        observed_at=p.observed_at,
        views=p.views,
        likes=p.likes,
        comments=p.comments,
        shares=p.shares,
        saves=p.saves,
        reach=p.reach,
        engagement=engagement(p),
        estimated=p.estimated,
    )


def compute_campaign_numbers(
    *,
    campaign: CampaignRef | None,
    campaign_id: UUID,
    bookings: Sequence[BookingRef],
    posts: Sequence[PostRef],
    latest: Mapping[UUID, Point],
    closes: Mapping[UUID, Sequence[Point]],
    now: datetime,
) -> CampaignNumbers:
    """The campaign's whole number state at `now` (the `kpi.updated` document), from scratch.

    `latest[post_id]` is the post's latest sample and `closes[post_id]` its daily closes (any
    order); both are merged through `newer`, so either may lag the other. Removed posts and
    posts of deleted bookings count nowhere; a post whose booking is not known yet counts under
    a placeholder booking (fee 0, no commitments). `campaign` None (its catalog event has not
    arrived) still gives every booking and post figure, without dates or a daily series.
    """
    live_bookings, tracked = _tracked(campaign_id, bookings, posts)
    points = {post_id: _post_points(post_id, latest, closes) for post_id in tracked}
    steps: dict[UUID, Steps] = {booking_id: {} for booking_id in live_bookings}
    for post in tracked.values():
        add_steps(steps[post.booking_id], post_steps(points[post.id]))
    return _assemble(
        campaign=campaign,
        campaign_id=campaign_id,
        live_bookings=live_bookings,
        tracked=tracked,
        latest={post_id: _latest_of(pts) for post_id, pts in points.items()},
        steps=steps,
        now=now,
    )


def campaign_numbers_from_steps(
    *,
    campaign: CampaignRef | None,
    campaign_id: UUID,
    bookings: Sequence[BookingRef],
    posts: Sequence[PostRef],
    latest: Mapping[UUID, Point],
    steps: Mapping[tuple[UUID, UUID], Mapping[date, Step]],
    now: datetime,
) -> CampaignNumbers:
    """The same document as compute_campaign_numbers, from what the aggregator keeps up to date
    batch by batch instead of every close: each post's latest sample (the close of its newest
    day) and booking_steps (keyed by campaign and booking). Posts and bookings count exactly as
    there: the steps of a removed post were never added, and a deleted booking's are skipped.
    """
    live_bookings, tracked = _tracked(campaign_id, bookings, posts)
    return _assemble(
        campaign=campaign,
        campaign_id=campaign_id,
        live_bookings=live_bookings,
        tracked=tracked,
        latest={post_id: latest.get(post_id) for post_id in tracked},
        steps={
            booking_id: steps.get((campaign_id, booking_id), {}) for booking_id in live_bookings
        },
        now=now,
    )


def _assemble(
    *,
    campaign: CampaignRef | None,
    campaign_id: UUID,
    live_bookings: Mapping[UUID, BookingRef],
    tracked: Mapping[UUID, PostRef],
    latest: Mapping[UUID, Point | None],
    steps: Mapping[UUID, Mapping[date, Step]],
    now: datetime,
) -> CampaignNumbers:
    """The document from each tracked post's latest and each live booking's summed steps."""
    if campaign is not None and campaign.id != campaign_id:
        raise ValueError(f"campaign {campaign.id} given for campaign_id {campaign_id}")
    posts_by_booking: dict[UUID, list[UUID]] = {booking_id: [] for booking_id in live_bookings}
    for post in tracked.values():
        posts_by_booking[post.booking_id].append(post.id)
    close_day = (
        previous_close_day(campaign.start_date, campaign.end_date, now)
        if campaign is not None
        else None
    )
    booking_numbers = [
        _booking_numbers(
            live_bookings[booking_id],
            _actuals(latest[post_id] for post_id in posts_by_booking[booking_id]),
            _booking_close(close_day, steps[booking_id]),
        )
        for booking_id in sorted(live_bookings)
    ]

    post_numbers: list[PostNumbers] = []
    split: dict[Platform, tuple[int, int]] = {}
    for post_id in sorted(tracked):
        post = tracked[post_id]
        held = latest[post_id]
        post_numbers.append(
            PostNumbers(
                post_id=post.id,
                booking_id=post.booking_id,
                influencer_id=live_bookings[post.booking_id].influencer_id,
                platform=post.platform,
                url=post.url,
                posted_at=post.posted_at,
                caption=post.caption,
                thumb_url=post.thumb_url,
                latest=_latest_counters(held) if held is not None else None,
            )
        )
        views, eng = split.get(post.platform, (0, 0))
        if held is not None:
            views, eng = views + (held.views or 0), eng + engagement(held)
        split[post.platform] = (views, eng)

    daily: list[DailyPoint] = []
    figures = _campaign_figures(campaign, campaign_id, booking_numbers, now)
    if campaign is not None:
        daily = series_from_steps(
            campaign.start_date, campaign.end_date, day_of(now), *steps.values()
        )
        booking_numbers, figures = _with_forecast(campaign, booking_numbers, figures, steps, now)
    return CampaignNumbers(
        campaign=figures,
        bookings=booking_numbers,
        posts=post_numbers,
        daily=daily,
        platforms=[
            PlatformSplit(platform=platform, views=views, engagement=eng)
            for platform, (views, eng) in sorted(split.items())
        ],
        creators=creator_figures(booking_numbers),
        as_of=now,
    )


def _with_forecast(
    campaign: CampaignRef,
    bookings: list[BookingNumbers],
    figures: CampaignFigures,
    steps: Mapping[UUID, Mapping[date, Step]],
    now: datetime,
) -> tuple[list[BookingNumbers], CampaignFigures]:
    """The bookings and the campaign with their delivery forecasts (pulse_contracts.forecast),
    from each booking's own daily series: the steps the recompute already holds. Only the recent
    days are built (RECENT_DAYS before today, or before the end date once it has passed): the
    forecast reads nothing older, as when a reader brings the document forward."""
    today = day_of(now)
    first = min(today, campaign.end_date) - timedelta(days=RECENT_DAYS - 1)
    series = {
        b.booking_id: series_from_steps(
            campaign.start_date, campaign.end_date, today, steps[b.booking_id], first=first
        )
        for b in bookings
    }
    return with_forecast(bookings, figures, series, today=today)


def influencer_series(
    *,
    campaign: CampaignRef,
    influencer_id: UUID,
    bookings: Sequence[BookingRef],
    posts: Sequence[PostRef],
    closes: Mapping[UUID, Sequence[Point]],
    now: datetime,
    latest: Mapping[UUID, Point] | None = None,
) -> list[DailyPoint]:
    """The campaign's daily series over the tracked posts of one influencer's bookings."""
    live_bookings, tracked = _tracked(campaign.id, bookings, posts)
    held = latest or {}
    points = {
        post_id: _post_points(post_id, held, closes)
        for post_id, post in tracked.items()
        if live_bookings[post.booking_id].influencer_id == influencer_id
    }
    return daily_series(campaign.start_date, campaign.end_date, day_of(now), points)
