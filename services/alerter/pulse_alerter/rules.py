"""The booking and post alert rules of design/kpis.md beyond under_kpi, pure functions of data.

"Tracking" (stale_data) is decided here: a post is tracked while it is registered and not
removed (nor its booking deleted), its platform is one Pulse pulls (not `other`), its
organization is not flagged `is_test` (ingest never pulls either: their numbers come only from
pushes and imports, so silence there is expected, not stale), and the campaign is within its
pull window (until end_date + 8 days 00:00 UTC, pulse_contracts.refresh.pull_until). Unlike the
other rules, stale_data also holds for an `ended` campaign inside that window: the last pulls
after the end are the final numbers of the client report, and a broken pull then still needs
hands. Draft and paused campaigns raise nothing, as for every rule.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from uuid import UUID

from pulse_contracts.numbers import (
    SERIES_TAIL,
    engagement_rate,
    round_half_up,
)
from pulse_contracts.refresh import post_age, pull_until, refresh_interval
from pulse_contracts.values import PULLED_PLATFORMS, CampaignStatus, Severity

from .context import (
    CampaignContext,
    CommentScores,
    PostState,
    campaign_end,
    creator_label,
    duration_text,
    is_alertable,
    make_condition,
    measured_views_of,
    to_exact,
)
from .domain import (
    ALERTABLE_STATUS,
    Condition,
    campaign_label,
    evaluate_under_kpi,
    pct_text,
)
from .messages import BookingFigures, Numbers, PostFigures

# stale_data keeps watching through the pull window after the end (see the module docstring).
STALE_DATA_STATUSES: tuple[CampaignStatus, ...] = (ALERTABLE_STATUS, "ended")
_ONE_DAY = timedelta(days=1)


# --- engagement_drop ------------------------------------------------------------------------


def yesterday_close_rate(booking: BookingFigures, doc: Numbers, now: datetime) -> float | None:
    """The booking's engagement rate at yesterday's close in the daily series; None if none.

    Yesterday Y = now's UTC date − 1. On or after as_of's date nothing newer than the document
    exists, so Y's close is the booking's current actuals; the day before as_of's date is the
    close the document carries. The series only has start_date … end_date + 7 days.
    """
    start_date, end_date = doc.campaign.start_date, doc.campaign.end_date
    if start_date is None or end_date is None:
        return None
    yesterday = now.astimezone(UTC).date() - _ONE_DAY
    if not start_date <= yesterday <= end_date + SERIES_TAIL:
        return None
    if yesterday >= doc.as_of.astimezone(UTC).date():
        return engagement_rate(booking.actual_engagement, booking.actual_views)
    close = booking.previous_close
    if close is None or close.date != yesterday:
        return None
    return engagement_rate(close.engagement_cum, close.views_cum)


def engagement_drop_key(booking_id: UUID) -> str:
    return f"engagement_drop:booking:{booking_id}"


def evaluate_engagement_drop(
    booking: BookingFigures, ctx: CampaignContext, now: datetime
) -> Condition:
    t = ctx.thresholds
    rate = booking.engagement_rate
    minimum = booking.min_engagement_rate
    yesterday = yesterday_close_rate(booking, ctx.doc, now)
    severity: Severity | None = None
    if (
        is_alertable(ctx)
        and booking.actual_views >= t.engagement_drop_min_views
        and rate is not None
    ):
        exact = to_exact(rate)
        below_minimum = minimum is not None and exact < to_exact(minimum)
        dropped = yesterday is not None and exact < to_exact(t.engagement_drop_factor) * to_exact(
            yesterday
        )
        if below_minimum or dropped:
            half = minimum is not None and exact < to_exact(minimum) / 2
            severity = "critical" if half else "warning"
    reasons = []
    if minimum is not None:
        reasons.append(f"minimum {pct_text(minimum)}")
    if yesterday is not None:
        reasons.append(f"{pct_text(yesterday)} at yesterday's close")
    detail = f" ({'; '.join(reasons)})" if reasons else ""
    return make_condition(
        key=engagement_drop_key(booking.booking_id),
        type="engagement_drop",
        ctx=ctx,
        booking_id=booking.booking_id,
        post_id=None,
        severity=severity,
        message=(
            f"{creator_label(booking.influencer_id, ctx)}'s engagement rate in "
            f"{campaign_label(ctx.doc)} is {pct_text(rate)}{detail}"
        ),
    )


# --- deadline -------------------------------------------------------------------------------


def deadline_key(booking_id: UUID) -> str:
    return f"deadline:booking:{booking_id}"


def evaluate_deadline(booking: BookingFigures, ctx: CampaignContext, now: datetime) -> Condition:
    t = ctx.thresholds
    end_date = ctx.doc.campaign.end_date
    committed = booking.committed_posts
    severity: Severity | None = None
    left = timedelta(0)
    if is_alertable(ctx) and end_date is not None and committed is not None:
        left = campaign_end(end_date) - now
        if booking.actual_posts < committed:
            if left <= timedelta(days=t.deadline_critical_days):  # includes now ≥ end
                severity = "critical"
            elif left <= timedelta(days=t.deadline_warning_days):
                severity = "warning"
    when = (
        f"the campaign ended {duration_text(-left)} ago"
        if left <= timedelta(0)
        else f"{duration_text(left)} left"
    )
    return make_condition(
        key=deadline_key(booking.booking_id),
        type="deadline",
        ctx=ctx,
        booking_id=booking.booking_id,
        post_id=None,
        severity=severity,
        message=(
            f"{creator_label(booking.influencer_id, ctx)} has {booking.actual_posts} of "
            f"{committed if committed is not None else 'n/a'} posts live in "
            f"{campaign_label(ctx.doc)} with {when}"
        ),
    )


# --- stale_data -----------------------------------------------------------------------------


def stale_data_key(post_id: UUID) -> str:
    return f"stale_data:post:{post_id}"


def is_tracking(post: PostState, ctx: CampaignContext, now: datetime) -> bool:
    """Whether Pulse is pulling this post now (the module docstring says why each part)."""
    end_date = ctx.doc.campaign.end_date
    return (
        post.registered_at is not None
        and not post.removed
        and post.platform in PULLED_PLATFORMS
        and not ctx.org_is_test
        and ctx.doc.campaign.status in STALE_DATA_STATUSES
        and end_date is not None
        and now < pull_until(end_date)
    )


def data_times(
    post: PostState, listed: PostFigures | None
) -> tuple[datetime | None, datetime | None]:
    """The post's newest sample time and posted_at, as the campaign's document lists them (its
    latest sample has the greatest observed_at). A later time in the alerter's own copy, kept
    before the alerter read them from kpi.updated, is never moved back."""
    if listed is None:
        return post.last_data_at, post.posted_at
    newest = listed.latest.observed_at if listed.latest is not None else None
    if post.last_data_at is not None and (newest is None or post.last_data_at > newest):
        newest = post.last_data_at
    return newest, listed.posted_at or post.posted_at


def evaluate_stale_data(
    post: PostState,
    influencer_id: UUID | None,
    ctx: CampaignContext,
    now: datetime,
    listed: PostFigures | None = None,
) -> Condition:
    """stale_data of a post, from its state and what the document lists of it (`listed`)."""
    t = ctx.thresholds
    severity: Severity | None = None
    since = timedelta(0)
    last_data_at, posted_at = data_times(post, listed)
    failures = post.failing_pulls(last_data_at)
    if is_tracking(post, ctx, now):
        assert post.registered_at is not None  # is_tracking checked it
        # A post never pulled has been waiting for data since it was registered.
        since = now - (last_data_at or post.registered_at)
        interval = refresh_interval(
            post_age(now, posted_at=posted_at, registered_at=post.registered_at)
        )
        stale = since > interval * t.stale_interval_multiple
        if stale or failures >= t.stale_consecutive_failures:
            critical = since >= timedelta(hours=t.stale_critical_hours)
            severity = "critical" if critical else "warning"
    failed = f" ({failures} failed pulls in a row)" if failures else ""
    return make_condition(
        key=stale_data_key(post.post_id),
        type="stale_data",
        ctx=ctx,
        booking_id=post.booking_id,
        post_id=post.post_id,
        severity=severity,
        message=(
            f"No new data for {creator_label(influencer_id, ctx)}'s "
            f"{post.platform or 'unknown'} post "
            f"in {campaign_label(ctx.doc)} for {duration_text(since)}{failed}"
        ),
    )


# --- viral ----------------------------------------------------------------------------------


def viral_key(post_id: UUID) -> str:
    return f"viral:post:{post_id}"


def _others_median(post_id: UUID, ctx: CampaignContext) -> tuple[int, Fraction]:
    """How many measured latest views the document's posts other than `post_id` have, and
    their median (0 when there are none).

    Read off the campaign's one sorted list by position, without a copy and a sort of it per
    post: for a 200-post campaign that was 200 copies and sorts of 200 views per evaluation,
    about a fifth of the viral rule's cost (py-spy)."""
    ordered, own = ctx.measured_views
    gone: list[int] = []  # positions in `ordered` of the post's own views, one per value
    for v in sorted(own.get(post_id, ())):
        at = bisect_left(ordered, v)
        while at in gone:  # the same value twice: the next equal one
            at += 1
        gone.append(at)

    def nth(j: int) -> int:
        """The j-th (0-based) of the others, ascending."""
        for position in gone:  # ascending: each one at or before j shifts it by one
            if position <= j:
                j += 1
        return ordered[j]

    count = len(ordered) - len(gone)
    if count == 0:
        return 0, Fraction(0)
    middle = count // 2
    if count % 2:
        return count, Fraction(nth(middle))
    return count, Fraction(nth(middle - 1) + nth(middle), 2)


def evaluate_viral(post: PostFigures, ctx: CampaignContext) -> Condition:
    t = ctx.thresholds
    views = measured_views_of(post)
    known = ctx.influencers.get(post.influencer_id) if post.influencer_id else None
    followers = known.followers.get(post.platform) if known is not None else None
    reasons: list[str] = []
    if is_alertable(ctx) and views is not None and views >= t.viral_min_views:
        others, median = _others_median(post.post_id, ctx)
        if others >= t.viral_median_min_posts and views >= to_exact(t.viral_median_factor) * median:
            reasons.append(f"the campaign's median post has {round(median):,}")
        if followers is not None and views >= to_exact(t.viral_followers_factor) * followers:
            reasons.append(f"the creator has {followers:,} followers")
    return make_condition(
        key=viral_key(post.post_id),
        type="viral",
        ctx=ctx,
        booking_id=post.booking_id,
        post_id=post.post_id,
        severity="info" if reasons else None,
        message=(
            f"{creator_label(post.influencer_id, ctx)}'s {post.platform} post in "
            f"{campaign_label(ctx.doc)} is going viral with "
            f"{views if views is None else f'{views:,}'} views"
            + (f" ({'; '.join(reasons)})" if reasons else "")
        ),
    )


# --- sentiment ------------------------------------------------------------------------------


def sentiment_key(post_id: UUID) -> str:
    return f"sentiment:post:{post_id}"


def negative_share(scores: CommentScores | None) -> float | None:
    """100 × negative / analysed, 2 decimals half up; None before any comment is analysed."""
    if scores is None or scores.analysed == 0:
        return None
    return round_half_up(Fraction(100 * scores.negative, scores.analysed))


def evaluate_sentiment(
    post: PostState, influencer_id: UUID | None, ctx: CampaignContext
) -> Condition:
    t = ctx.thresholds
    scores = post.comments
    share = negative_share(scores)
    severity: Severity | None = None
    if (
        is_alertable(ctx)
        and not post.removed
        and scores is not None
        and share is not None
        and scores.analysed >= t.sentiment_min_comments
    ):
        if to_exact(share) >= to_exact(t.sentiment_critical_share):
            severity = "critical"
        elif to_exact(share) >= to_exact(t.sentiment_warning_share):
            severity = "warning"
    return make_condition(
        key=sentiment_key(post.post_id),
        type="sentiment",
        ctx=ctx,
        booking_id=post.booking_id,
        post_id=post.post_id,
        severity=severity,
        message=(
            f"{creator_label(influencer_id, ctx)}'s {post.platform or 'unknown'} post in "
            f"{campaign_label(ctx.doc)}: {pct_text(share)} of "
            f"{scores.analysed if scores else 0} analysed comments are negative"
        ),
    )


# --- every rule of a campaign ---------------------------------------------------------------


def _post_states(ctx: CampaignContext) -> Iterable[tuple[PostState, UUID | None]]:
    """Every post the campaign's rules look at, with its influencer when the document knows it.

    The document lists the tracked posts the aggregator knows, each with its latest sample and
    posted_at: what the post's data says (data_times). The alerter's own copy adds what catalog
    and pull events say (registration, removal, failed pulls, comments), and the posts
    registered since the document (stale_data must not wait for the first sample to notice
    silence).
    """
    in_doc = {p.post_id: p for p in ctx.doc.posts}
    booking_influencer: dict[UUID, UUID | None] = {**ctx.booking_influencers}
    booking_influencer.update({b.booking_id: b.influencer_id for b in ctx.doc.bookings})
    for post_id in sorted(set(in_doc) | set(ctx.posts)):
        state = ctx.posts.get(post_id)
        listed = in_doc.get(post_id)
        if state is None:
            assert listed is not None
            state = PostState(
                post_id=post_id,
                booking_id=listed.booking_id,
                campaign_id=ctx.doc.campaign.campaign_id,
                platform=listed.platform,
            )
        elif state.removed:
            continue  # its key is left out, so an open alert for it resolves
        influencer = (
            listed.influencer_id if listed is not None else booking_influencer.get(state.booking_id)
        )
        yield state, influencer


def evaluate_all(ctx: CampaignContext, now: datetime) -> list[Condition]:
    """Every debounce key of the campaign's bookings and posts, holding or not.

    A key missing from the result (a deleted booking, a removed post) has no subject any more;
    the caller resolves its open alert.
    """
    names = {i: inf.display_name for i, inf in ctx.influencers.items()}
    conditions = evaluate_under_kpi(ctx.doc, now, thresholds=ctx.thresholds, influencers=names)
    for booking in ctx.doc.bookings:
        conditions.append(evaluate_engagement_drop(booking, ctx, now))
        conditions.append(evaluate_deadline(booking, ctx, now))
    in_doc = {p.post_id: p for p in ctx.doc.posts}
    for state, influencer_id in _post_states(ctx):
        listed = in_doc.get(state.post_id)
        if listed is not None:
            conditions.append(evaluate_viral(listed, ctx))
        conditions.append(evaluate_stale_data(state, influencer_id, ctx, now, listed))
        conditions.append(evaluate_sentiment(state, influencer_id, ctx))
    # Imported here: forecast_rule builds on this module's context and helpers.
    from .forecast_rule import evaluate_forecast_miss

    conditions.extend(evaluate_forecast_miss(ctx, now))
    return conditions
