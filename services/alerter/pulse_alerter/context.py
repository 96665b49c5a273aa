"""What the alert rules read (a campaign's document, its catalog copies, post states) and the
small helpers every rule shares. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache
from uuid import UUID

from pulse_contracts.alerts import AlertThresholds
from pulse_contracts.values import AlertType, Platform, Severity

from .domain import (
    ALERTABLE_STATUS,
    DEFAULT_THRESHOLDS,
    Condition,
)
from .messages import Numbers, PostFigures

_ONE_DAY = timedelta(days=1)


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Influencer:
    """The alerter's copy of an influencer: the name messages use, followers per platform."""

    display_name: str
    followers: Mapping[Platform, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CommentScores:
    analysed: int
    negative: int


@dataclass(frozen=True)
class PostState:
    """What the alerter learned about one post from catalog and post events; its newest sample
    time and posted_at are the campaign's document's (rules.data_times)."""

    post_id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: Platform | None = None
    registered_at: datetime | None = None  # None until catalog.post.registered arrives
    posted_at: datetime | None = None
    removed: bool = False
    # Newest observed_at of its samples, as kept before the alerter read it from kpi.updated.
    last_data_at: datetime | None = None
    failures: int = 0  # consecutive failed pulls, as ingest counted them at `failures_at`
    failures_at: datetime | None = None
    comments: CommentScores | None = None

    def failing_pulls(self, last_data_at: datetime | None) -> int:
        """Consecutive failures still current: a sample after the last failure ends the run
        (`last_data_at`: the post's newest sample time, rules.data_times)."""
        if self.failures_at is None:
            return 0
        if last_data_at is not None and last_data_at >= self.failures_at:
            return 0
        return self.failures


@dataclass(frozen=True)
class CampaignContext:
    """Everything the rules of one campaign read, besides `now`."""

    doc: Numbers
    thresholds: AlertThresholds = DEFAULT_THRESHOLDS
    org_is_test: bool = False
    influencers: Mapping[UUID, Influencer] = field(default_factory=dict)
    posts: Mapping[UUID, PostState] = field(default_factory=dict)
    # booking → influencer from catalog, for posts the document does not list yet.
    booking_influencers: Mapping[UUID, UUID] = field(default_factory=dict)

    @cached_property
    def measured_views(self) -> tuple[list[int], dict[UUID, list[int]]]:
        """The document's measured latest views, ascending, and each post's own among them.

        Sorted once per evaluation, so the viral rule's "median of the other posts" costs one
        copy per post instead of a scan of every post for every post (quadratic in campaigns
        of hundreds of posts)."""
        ordered: list[int] = []
        own: dict[UUID, list[int]] = {}
        for p in self.doc.posts:
            if (v := measured_views_of(p)) is not None:
                ordered.append(v)
                own.setdefault(p.post_id, []).append(v)
        ordered.sort()
        return ordered, own


def measured_views_of(post: PostFigures) -> int | None:
    # A post whose platform hides views (null) has no views sample: it is not a measured 0.
    return post.latest.views if post.latest is not None else None


# --- helpers --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def to_exact(value: float) -> Fraction:
    # Rates arrive rounded to 2 decimals; their decimal text is the value the agency reads.
    # Cached: the same few thresholds are compared for every post of every evaluation, and
    # going through the decimal text costs more than the comparison.
    return Fraction(Decimal(repr(value)))


def campaign_end(end_date: date) -> datetime:
    """end = (end_date + 1 day) 00:00 UTC: the end date is included."""
    return datetime.combine(end_date + _ONE_DAY, time(0), UTC)


def creator_label(influencer_id: UUID | None, ctx: CampaignContext) -> str:
    if influencer_id is None:
        return "An unassigned creator"
    known = ctx.influencers.get(influencer_id)
    return known.display_name if known is not None else f"Influencer {influencer_id}"


def duration_text(span: timedelta) -> str:
    """Whole hours under two days ("7 h"), else days and hours ("2 days 4 h")."""
    hours = max(int(span.total_seconds() // 3600), 0)
    if hours < 48:
        return f"{hours} h"
    days, rest = divmod(hours, 24)
    return f"{days} days {rest} h" if rest else f"{days} days"


def make_condition(
    *,
    key: str,
    type: AlertType,
    ctx: CampaignContext,
    booking_id: UUID | None,
    post_id: UUID | None,
    severity: Severity | None,
    message: str,
) -> Condition:
    return Condition(
        debounce_key=key,
        type=type,
        scope="post" if post_id is not None else "booking",
        campaign_id=ctx.doc.campaign.campaign_id,
        booking_id=booking_id,
        post_id=post_id,
        holds=severity is not None,
        severity=severity,
        message=message,
    )


def is_alertable(ctx: CampaignContext) -> bool:
    return ctx.doc.campaign.status == ALERTABLE_STATUS
