"""What the alerter decodes of its two large messages: only the fields it reads.

A `post.pulled` carries up to 1000 samples and a `kpi.updated` a campaign's whole document
(~100-200 KB); decoding them whole was a third of the alerter's CPU under load, while it reads
a few fields of each. These models hold exactly those fields, validated as the contract
validates them (a bad id, time or figure there still sends the message to the DLQ), and
ignore the rest (counters of samples, daily series, forecast paths, post texts), which the
contract's other consumers validate. The envelope itself is validated whole as always
(pulse_runtime.messaging.parse_envelope's `narrow`).

They are not registered: the contract of record stays pulse_contracts'. The handlers also take
the contract's own models (the tests, and any caller other than the subscribers).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, NotRequired
from uuid import UUID

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic's choice below Python 3.12

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
from pulse_contracts.posts import MAX_SAMPLES_PER_MESSAGE, PostPulled
from pulse_contracts.values import CampaignStatus, CurrencyCode, Platform

_READ_ONLY_THESE = ConfigDict(extra="ignore", frozen=True)

# --- post.pulled ------------------------------------------------------------------------------


@with_config(ConfigDict(extra="ignore"))
class PulledSample(TypedDict):
    """Of one sample, what the post states need: no counters. A TypedDict, not a model: 1000
    model instances per message cost more than the validation itself."""

    post_id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: Platform
    observed_at: datetime


@with_config(ConfigDict(extra="ignore"))
class PulledFacts(TypedDict):
    post_id: UUID
    posted_at: NotRequired[datetime | None]


class PulledBatch(EventData):
    """post.pulled as the alerter reads it."""

    model_config = _READ_ONLY_THESE
    event_type: ClassVar[str] = PostPulled.event_type
    samples: list[PulledSample] = Field(min_length=1, max_length=MAX_SAMPLES_PER_MESSAGE)
    posts: list[PulledFacts] = Field(default_factory=list, max_length=MAX_SAMPLES_PER_MESSAGE)


def pulled_samples(data: PostPulled | PulledBatch) -> list[PulledSample]:
    if isinstance(data, PulledBatch):
        return data.samples
    return [
        PulledSample(
            post_id=s.post_id,
            booking_id=s.booking_id,
            campaign_id=s.campaign_id,
            platform=s.platform,
            observed_at=s.observed_at,
        )
        for s in data.samples
    ]


def pulled_posted_at(data: PostPulled | PulledBatch) -> dict[UUID, datetime]:
    """posted_at of the posts whose facts came with the batch (the last one given wins)."""
    if isinstance(data, PulledBatch):
        return {
            f["post_id"]: posted for f in data.posts if (posted := f.get("posted_at")) is not None
        }
    return {f.post_id: f.posted_at for f in data.posts if f.posted_at is not None}


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
    creators. Its JSON is a valid CampaignNumbers document (the fields left out have
    defaults), which is how the evaluation loads it (repository.load_numbers)."""

    model_config = _READ_ONLY_THESE
    event_type: ClassVar[str] = CampaignNumbers.event_type
    campaign: CampaignRead
    bookings: list[BookingRead] = Field(default_factory=list)
    posts: list[PostRead] = Field(default_factory=list)
    as_of: datetime


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
    PulledBatch.event_type: PulledBatch,
    NumbersRead.event_type: NumbersRead,
}
