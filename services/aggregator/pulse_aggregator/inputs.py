"""What the numbers are computed from: the catalog copies the aggregator keeps, the samples of
posts, and which sample of a post is its latest. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from pulse_contracts.values import CampaignStatus, Platform

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
