"""What share decodes of a kpi.updated document: only the fields its redaction reads.

A kpi.updated carries a campaign's whole document (~100-200 KB for 200 posts), money
included: fees, budget, spend, CPM and CPE. share keeps an allow-listed part of it
(domain.redact_numbers), so decoding it whole cost CPU for fields it drops, and put every
figure share must never show into its memory first. These models hold exactly what the
redaction reads, validated as the contract validates them (a bad id, date or figure there
still sends the message to the DLQ), and ignore the rest, which the contract's other consumers
validate: no money field of the document is ever decoded here. The envelope itself is
validated whole as always (pulse_runtime.messaging.parse_envelope's `narrow`).

EMV needs nothing more: a link that opted in values the posts' counters it already shows at
the organization's rates (emv.py), never the document's money. The models are not registered:
the contract of record stays pulse_contracts'. redact_numbers also takes the contract's own
CampaignNumbers (the tests, and any caller other than the subscriber).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from pulse_contracts import EventData
from pulse_contracts.envelope import ContractModel
from pulse_contracts.forecast import DeliveryForecast
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    CreatorNumbers,
    DailyPoint,
    DeliveryKpis,
    LatestCounters,
    PlatformSplit,
    PostNumbers,
    creator_figures,
)
from pulse_contracts.posts import Counters
from pulse_contracts.values import CampaignStatus, Platform, Url

_READ_ONLY_THESE = ConfigDict(extra="ignore", frozen=True)


class CampaignRead(DeliveryKpis):
    """CampaignFigures without its money (currency, budget, spend, CPM, CPE): the delivery
    KPIs and timeline a client sees (ClientKpis), the campaign's facts and its forecast."""

    model_config = _READ_ONLY_THESE
    campaign_id: UUID
    client_id: UUID | None = None
    name: str | None = None
    status: CampaignStatus | None = None
    start_date: date | None = None
    end_date: date | None = None
    timeline_pct: float | None = None
    forecast: DeliveryForecast | None = None


class BookingRead(ContractModel):
    """Of a booking, what groups its creator's actuals: no fee, commitment, cost or forecast."""

    model_config = _READ_ONLY_THESE
    booking_id: UUID
    influencer_id: UUID | None = None
    actual_views: int = 0
    actual_engagement: int = 0
    actual_posts: int = 0


class CountersRead(Counters):
    """LatestCounters without observed_at (a client sees the counters, not when they were read)."""

    model_config = _READ_ONLY_THESE
    engagement: int
    estimated: bool = False


class PostRead(ContractModel):
    """PostNumbers without its id (the client view never names a post)."""

    model_config = _READ_ONLY_THESE
    booking_id: UUID
    influencer_id: UUID | None = None
    platform: Platform
    url: Url | None = None
    posted_at: datetime | None = None
    caption: str | None = None
    thumb_url: Url | None = None
    latest: CountersRead | None = None


class NumbersRead(EventData):
    """kpi.updated as share reads it: no document EMV (the gateway's; share values its own)."""

    model_config = _READ_ONLY_THESE
    event_type: ClassVar[str] = CampaignNumbers.event_type
    campaign: CampaignRead
    bookings: list[BookingRead] = Field(default_factory=list)
    posts: list[PostRead] = Field(default_factory=list)
    daily: list[DailyPoint] = Field(default_factory=list)
    platforms: list[PlatformSplit] = Field(default_factory=list)
    creators: list[CreatorNumbers] = Field(default_factory=list)
    as_of: datetime

    @model_validator(mode="after")
    def _creators_of_older_documents(self) -> NumbersRead:
        # The contract's own rule, so `creators` means here what it means in CampaignNumbers.
        if self.bookings and not self.creators:
            object.__setattr__(self, "creators", creator_figures(self.bookings))
        return self


# What each model leaves out of its contract; test_messages checks these against the contracts,
# so a field added to a contract stays out of share until someone decides it belongs here.
LEFT_OUT: dict[type[ContractModel], tuple[type[ContractModel], frozenset[str]]] = {
    CampaignRead: (
        CampaignFigures,
        frozenset({"currency", "budget_cents", "spend_cents", "cpm", "cpe"}),
    ),
    BookingRead: (
        BookingNumbers,
        frozenset(
            {
                "committed_views",
                "committed_engagement",
                "committed_posts",
                "views_pct",
                "engagement_pct",
                "posts_pct",
                "kpi_pct",
                "engagement_rate",
                "cpm",
                "cpe",
                "fee_cents",
                "min_engagement_rate",
                "previous_close",
                "forecast",
                "recent",
            }
        ),
    ),
    CountersRead: (LatestCounters, frozenset({"observed_at"})),
    PostRead: (PostNumbers, frozenset({"post_id"})),
    NumbersRead: (CampaignNumbers, frozenset({"emv"})),
}

# The subscriber's `narrow` (pulse_runtime.messaging.subscribe_events).
NARROW: dict[str, type[EventData]] = {NumbersRead.event_type: NumbersRead}
