"""Campaign numbers from samples (design/kpis.md): KPIs, daily series, compare — pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from uuid import UUID

from pulse_contracts.numbers import (
    SERIES_TAIL,
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
from pulse_contracts.values import CampaignStatus, Platform

_ONE_DAY = timedelta(days=1)


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignRef:
    id: UUID
    org_id: UUID
    client_id: UUID
    name: str
    status: CampaignStatus
    start_date: date
    end_date: date
    budget_cents: int | None
    currency: str
    committed_views: int | None
    committed_engagement: int | None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class BookingRef:
    id: UUID
    campaign_id: UUID
    influencer_id: UUID | None
    fee_cents: int
    committed_views: int | None
    committed_engagement: int | None
    committed_posts: int | None
    min_engagement_rate: float | None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class PostRef:
    id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: Platform
    url: str | None = None
    posted_at: datetime | None = None
    caption: str | None = None
    thumb_url: str | None = None
    removed: bool = False


@dataclass(frozen=True, slots=True)
class Point:
    """One sample of a post: cumulative counters at `observed_at`; None = not exposed."""

    post_id: UUID
    observed_at: datetime
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    reach: int | None = None
    estimated: bool = False


# --- samples ----------------------------------------------------------------------------------


def _order_key(p: Point) -> tuple[datetime, int, tuple[int, ...], bool]:
    # None sorts below 0 in the tie-break tuple so a measured 0 and "n/a" never compare equal;
    # a measured sample beats an estimate at a full tie.
    counters = tuple(
        -1 if c is None else c for c in (p.views, p.likes, p.comments, p.shares, p.saves, p.reach)
    )
    return (p.observed_at, p.views or 0, counters, not p.estimated)


def newer(a: Point, b: Point) -> bool:
    """Whether `a` replaces `b` as the latest: later observed_at, then more views, then counters.

    A strict total order on distinct points, so folding samples through it gives the same
    latest whatever order (and however many duplicates) they arrive in.
    """
    return _order_key(a) > _order_key(b)


def engagement(p: Point) -> int:
    """likes + comments + shares + saves, with "n/a" counted as 0."""
    return (p.likes or 0) + (p.comments or 0) + (p.shares or 0) + (p.saves or 0)


def day_of(ts: datetime) -> date:
    """The UTC date of `ts` (a naive datetime is taken to be UTC already)."""
    if ts.tzinfo is None:
        return ts.date()
    return ts.astimezone(UTC).date()


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


# --- daily series -----------------------------------------------------------------------------


def _closes_by_day(points: Iterable[Point]) -> dict[date, Point]:
    """The latest point of each UTC day; tolerant of duplicates and several points per day."""
    by_day: dict[date, Point] = {}
    for p in points:
        d = day_of(p.observed_at)
        held = by_day.get(d)
        if held is None or newer(p, held):
            by_day[d] = p
    return by_day


@dataclass(frozen=True, slots=True)
class Step:
    """What one day adds to the cumulative daily series: views, engagement and posts live."""

    views: int = 0
    engagement: int = 0
    live: int = 0

    def __add__(self, other: Step) -> Step:
        return Step(
            self.views + other.views, self.engagement + other.engagement, self.live + other.live
        )

    def __sub__(self, other: Step) -> Step:
        return Step(
            self.views - other.views, self.engagement - other.engagement, self.live - other.live
        )


NO_STEP = Step()
Steps = dict[date, Step]


def post_steps(points: Iterable[Point]) -> Steps:
    """One post's part of the daily series as per-day differences.

    On each UTC day the post has a close: that close minus the one before (0 before the first),
    and one post live on its first day. Summed over posts and prefix-summed over days this is
    the daily series (series_from_steps); summed up to a day it is the post's close of that day.
    """
    steps: Steps = {}
    views = eng = 0
    by_day = _closes_by_day(points)
    for d in sorted(by_day):
        close = by_day[d]
        close_views, close_eng = close.views or 0, engagement(close)
        steps[d] = Step(close_views - views, close_eng - eng, 0 if steps else 1)
        views, eng = close_views, close_eng
    return steps


def add_steps(total: Steps, steps: Mapping[date, Step]) -> Steps:
    """Adds `steps` into `total` (in place) and returns it."""
    for d, step in steps.items():
        total[d] = total.get(d, NO_STEP) + step
    return total


def series_from_steps(
    start_date: date, end_date: date, today: date, steps: Mapping[date, Step]
) -> list[DailyPoint]:
    """The daily series from start_date to min(today, end_date + 7 days) (kpis.md).

    `steps` are the summed post_steps of the counted posts: each day's cumulative sums are the
    prefix sums of the steps, O(steps + days). A step before start_date lands on day one, which
    is how an early sample counts in day one's cum; a step after the last day counts nowhere.
    """
    last = min(today, end_date + SERIES_TAIL)
    if last < start_date:
        return []
    n_days = (last - start_date).days + 1
    by_index = [NO_STEP] * n_days
    for d, step in steps.items():
        index = max((d - start_date).days, 0)
        if index < n_days:
            by_index[index] = by_index[index] + step
    series: list[DailyPoint] = []
    views_cum = engagement_cum = posts_live = 0
    for index, step in enumerate(by_index):
        views_cum += step.views
        engagement_cum += step.engagement
        posts_live += step.live
        series.append(
            DailyPoint(
                date=start_date + timedelta(days=index),
                views_cum=views_cum,
                # cum(d) − cum(d − 1) is exactly the step of day d, with cum(start − 1) = 0.
                views_delta=step.views,
                engagement_cum=engagement_cum,
                engagement_delta=step.engagement,
                posts_live=posts_live,
            )
        )
    return series


def daily_series(
    start_date: date,
    end_date: date,
    today: date,
    closes: Mapping[UUID, Sequence[Point]],
) -> list[DailyPoint]:
    """The daily series from start_date to min(today, end_date + 7 days) (kpis.md).

    `closes[post_id]` are the post's daily closes in any order. Each close changes the
    cumulative sums from its own day on, so the series is built from per-day differences and a
    prefix sum: O(closes + days), never closes × days.
    """
    steps: Steps = {}
    for points in closes.values():
        add_steps(steps, post_steps(points))
    return series_from_steps(start_date, end_date, today, steps)


def _steps_until(day: date, steps: Mapping[date, Step]) -> Step:
    total = NO_STEP
    for d, step in steps.items():
        if d <= day:
            total = total + step
    return total


# --- keeping steps up to date, batch by batch --------------------------------------------------


def needs_history(newest: Point | None, arriving: Iterable[Point]) -> bool:
    """Whether step_changes needs all of a post's closes rather than only its newest one.

    Only when a point arrives for a day before the newest close's day (a late sample): any
    other batch changes the post's steps from the newest close's day on, which that close
    alone determines.
    """
    if newest is None:
        return False
    newest_day = day_of(newest.observed_at)
    return any(day_of(p.observed_at) < newest_day for p in arriving)


def step_changes(known: Sequence[Point], arriving: Iterable[Point]) -> Steps:
    """How one post's steps change when `arriving` points merge into its closes.

    `known` holds the post's closes: all of them, or those from some close day s on when every
    arriving point is dated s or later (its newest close, unless needs_history). Why a suffix
    is enough: the steps before s do not change, and the suffix's own steps differ from the
    full ones only at s, by the close before s (its views and engagement) and whether the post
    was live before s. Both are the same before and after the merge, so they cancel in the
    difference. Days whose step does not change are left out.
    """
    before = post_steps(known)
    after = post_steps([*known, *arriving])
    changes: Steps = {}
    for d in before.keys() | after.keys():
        change = after.get(d, NO_STEP) - before.get(d, NO_STEP)
        if change != NO_STEP:
            changes[d] = change
    return changes


def batch_step_changes(
    posts: Iterable[PostRef],
    arriving: Mapping[UUID, Sequence[Point]],
    known: Mapping[UUID, Sequence[Point]],
) -> dict[tuple[UUID, UUID], Steps]:
    """A batch's step changes per (campaign, booking) of each post's own record.

    `posts` are the batch's posts as the aggregator knows them: a removed post counts nowhere,
    so its points change no steps (they are still kept as closes). `known[post_id]` is what
    step_changes needs of each post.
    """
    changes: dict[tuple[UUID, UUID], Steps] = {}
    for post in posts:
        if post.removed or post.id not in arriving:
            continue
        change = step_changes(known.get(post.id, ()), arriving[post.id])
        if change:
            add_steps(changes.setdefault((post.campaign_id, post.booking_id), {}), change)
    return changes


def booking_steps(
    posts: Iterable[PostRef], closes: Mapping[UUID, Sequence[Point]]
) -> dict[tuple[UUID, UUID], Steps]:
    """Every (campaign, booking)'s steps from scratch: post_steps summed over the posts that
    are not removed, under the campaign and booking of each post's own record."""
    total: dict[tuple[UUID, UUID], Steps] = {}
    for post in posts:
        if not post.removed:
            add_steps(
                total.setdefault((post.campaign_id, post.booking_id), {}),
                post_steps(closes.get(post.id, ())),
            )
    return total


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
    close = _steps_until(day, steps)
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
        total: Steps = {}
        for booking_steps_ in steps.values():
            add_steps(total, booking_steps_)
        daily = series_from_steps(campaign.start_date, campaign.end_date, day_of(now), total)
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
    from each booking's own daily series: the steps the recompute already holds."""
    today = day_of(now)
    series = {
        b.booking_id: series_from_steps(
            campaign.start_date, campaign.end_date, today, steps[b.booking_id]
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
