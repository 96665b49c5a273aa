"""What the alerter decodes of its large message: only the fields it reads.

A `kpi.updated` carries a campaign's whole document (~100-200 KB); decoding it whole was a
third of the alerter's CPU under load, while it reads a few fields. These models hold exactly
those fields, validated as the contract validates them (a bad id, time or figure there still
sends the message to the DLQ), and ignore the rest (daily series, forecast paths, post texts),
which the contract's other consumers validate. The envelope itself is validated whole as always
(pulse_runtime.messaging.parse_envelope's `narrow`).

They are not registered: the contract of record stays pulse_contracts'. The handlers also take
the contract's own models (the tests, and any caller other than the subscribers).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict, Field

from pulse_contracts import EventData
from pulse_contracts.envelope import ContractModel
from pulse_contracts.forecast import DeliveryForecast, ForecastStatus
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    DailyClose,
    KpiFigures,
    LatestCounters,
    PostNumbers,
)
from pulse_contracts.values import CampaignStatus, CurrencyCode, Platform

_READ_ONLY_THESE = ConfigDict(extra="ignore", frozen=True)

# --- kpi.updated ------------------------------------------------------------------------------


class ForecastRead(ContractModel):
    """DeliveryForecast without its path (the day-by-day projection the rules never read)."""

    model_config = _READ_ONLY_THESE
    status: ForecastStatus
    views: int | None = None
    views_low: int | None = None
    views_high: int | None = None
    engagement: int | None = None
    engagement_low: int | None = None
    engagement_high: int | None = None
    posts: int | None = None
    posts_low: int | None = None
    posts_high: int | None = None


class BookingRead(KpiFigures):
    """BookingNumbers without `recent` (the series its forecast was computed from)."""

    model_config = _READ_ONLY_THESE
    booking_id: UUID
    influencer_id: UUID | None = None
    fee_cents: int = 0
    min_engagement_rate: float | None = None
    previous_close: DailyClose | None = None
    forecast: ForecastRead | None = None


class CampaignRead(KpiFigures):
    """CampaignFigures whole, its forecast without the path."""

    model_config = _READ_ONLY_THESE
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
    forecast: ForecastRead | None = None


class PostRead(ContractModel):
    """PostNumbers without its url, caption and thumbnail."""

    model_config = _READ_ONLY_THESE
    post_id: UUID
    booking_id: UUID
    influencer_id: UUID | None = None
    platform: Platform
    posted_at: datetime | None = None
    latest: LatestCounters | None = None


class NumbersRead(EventData):
    """kpi.updated as the alerter reads and keeps it: no daily series, platform split or
    creators. Its JSON is still a valid CampaignNumbers document (the fields left out have
    defaults); the evaluation loads it as this model (repository.load_numbers)."""

    model_config = _READ_ONLY_THESE
    event_type: ClassVar[str] = CampaignNumbers.event_type
    campaign: CampaignRead
    bookings: list[BookingRead] = Field(default_factory=list)
    posts: list[PostRead] = Field(default_factory=list)
    as_of: datetime


# What the rules read: the document as kpi.updated brings it to the alerter (the models above),
# or the contract's own (the tests build those, and a caller may pass one).
Numbers = CampaignNumbers | NumbersRead
BookingFigures = BookingNumbers | BookingRead
PostFigures = PostNumbers | PostRead
Forecast = DeliveryForecast | ForecastRead

# What each model leaves out of its contract; test_messages checks these against the contracts,
# so a field added to a contract is a decision here, not a silent omission.
LEFT_OUT: dict[type[ContractModel], tuple[type[ContractModel], frozenset[str]]] = {
    ForecastRead: (DeliveryForecast, frozenset({"path"})),
    BookingRead: (BookingNumbers, frozenset({"recent"})),
    CampaignRead: (CampaignFigures, frozenset()),
    PostRead: (PostNumbers, frozenset({"url", "caption", "thumb_url"})),
    NumbersRead: (CampaignNumbers, frozenset({"daily", "platforms", "creators", "emv"})),
}

# The subscribers' `narrow` (pulse_runtime.messaging.subscribe_events).
NARROW: dict[str, type[EventData]] = {
    NumbersRead.event_type: NumbersRead,
}
