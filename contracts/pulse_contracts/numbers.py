"""A campaign's whole number state (design/kpis.md): what `kpi.updated` carries and reads return.

Percentages and rates are rounded to 2 decimals; money is integer cents plus the currency.
"""

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from .envelope import ContractModel, EventData, register
from .posts import Counters
from .values import CampaignStatus, CurrencyCode, Platform, Url


class LatestCounters(Counters):
    """The post's latest sample (greatest observed_at; ties: greater views)."""

    observed_at: datetime
    engagement: int
    estimated: bool = False


class PostNumbers(ContractModel):
    post_id: UUID
    booking_id: UUID
    influencer_id: UUID | None = None
    platform: Platform
    url: Url | None = None
    posted_at: datetime | None = None
    caption: str | None = None
    thumb_url: Url | None = None
    latest: LatestCounters | None = None


class KpiFigures(ContractModel):
    committed_views: int | None = None
    committed_engagement: int | None = None
    committed_posts: int | None = None
    actual_views: int = 0
    actual_engagement: int = 0
    actual_posts: int = 0
    views_pct: float | None = None
    engagement_pct: float | None = None
    posts_pct: float | None = None
    kpi_pct: float | None = None
    engagement_rate: float | None = None
    cpm: float | None = None
    cpe: float | None = None


class BookingNumbers(KpiFigures):
    booking_id: UUID
    influencer_id: UUID | None = None
    fee_cents: int = 0
    min_engagement_rate: float | None = None


class CampaignFigures(KpiFigures):
    campaign_id: UUID
    client_id: UUID | None = None
    name: str | None = None
    status: CampaignStatus | None = None
    start_date: date | None = None
    end_date: date | None = None
    currency: CurrencyCode | None = None
    budget_cents: int | None = None
    spend_cents: int = 0
    timeline_pct: float | None = None


class DailyPoint(ContractModel):
    date: date
    views_cum: int
    views_delta: int
    engagement_cum: int
    engagement_delta: int
    posts_live: int


class PlatformSplit(ContractModel):
    platform: Platform
    views: int
    engagement: int


@register
class CampaignNumbers(EventData):
    """The `kpi.updated` document: complete, so consumers need nothing else to show numbers."""

    event_type = "kpi.updated"
    campaign: CampaignFigures
    bookings: list[BookingNumbers] = Field(default_factory=list)
    posts: list[PostNumbers] = Field(default_factory=list)
    daily: list[DailyPoint] = Field(default_factory=list)
    platforms: list[PlatformSplit] = Field(default_factory=list)
    as_of: datetime
