"""catalog.* events: the gateway's entities, carried whole (event-carried state transfer).

Every entity carries `updated_at`; consumers keep the newer copy, so late duplicates are harmless.
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from .envelope import ContractModel, EventData, register
from .values import CampaignStatus, CurrencyCode, Platform, ShortText, TokenScope, Url


@register
class OrganizationUpserted(EventData):
    event_type = "catalog.organization.upserted"
    id: UUID
    name: ShortText
    is_test: bool = False
    settings: dict[str, Any] = Field(default_factory=dict)
    updated_at: datetime


@register
class ApiTokenUpserted(EventData):
    """Never the token itself: ingest validates bearer tokens against this hash."""

    event_type = "catalog.api_token.upserted"
    id: UUID
    org_id: UUID
    name: ShortText = ""
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[TokenScope]
    updated_at: datetime


@register
class ApiTokenRevoked(EventData):
    event_type = "catalog.api_token.revoked"
    id: UUID
    org_id: UUID
    revoked_at: datetime


@register
class ClientUpserted(EventData):
    event_type = "catalog.client.upserted"
    id: UUID
    name: ShortText
    brand_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    logo_url: Url | None = None
    updated_at: datetime


@register
class CampaignUpserted(EventData):
    event_type = "catalog.campaign.upserted"
    id: UUID
    client_id: UUID
    name: ShortText
    status: CampaignStatus
    start_date: date
    end_date: date
    budget_cents: int | None = Field(default=None, ge=0)
    currency: CurrencyCode = "USD"
    committed_views: int | None = Field(default=None, ge=0)
    committed_engagement: int | None = Field(default=None, ge=0)
    updated_at: datetime


@register
class CampaignDeleted(EventData):
    event_type = "catalog.campaign.deleted"
    id: UUID
    deleted_at: datetime


class Handle(ContractModel):
    platform: Platform
    handle: ShortText
    followers: int | None = Field(default=None, ge=0)


@register
class InfluencerUpserted(EventData):
    event_type = "catalog.influencer.upserted"
    id: UUID
    display_name: ShortText
    avatar_url: Url | None = None
    tier: ShortText | None = None
    handles: list[Handle] = Field(default_factory=list, max_length=20)
    updated_at: datetime


@register
class BookingUpserted(EventData):
    event_type = "catalog.booking.upserted"
    id: UUID
    campaign_id: UUID
    influencer_id: UUID
    fee_cents: int = Field(ge=0)
    committed_views: int | None = Field(default=None, ge=0)
    committed_engagement: int | None = Field(default=None, ge=0)
    committed_posts: int | None = Field(default=None, ge=0)
    min_engagement_rate: float | None = Field(default=None, ge=0, le=100)
    exclusivity_days: int | None = Field(default=None, ge=0)
    usage_rights_days: int | None = Field(default=None, ge=0)
    updated_at: datetime


@register
class BookingDeleted(EventData):
    event_type = "catalog.booking.deleted"
    id: UUID
    campaign_id: UUID
    deleted_at: datetime


@register
class PostRegistered(EventData):
    event_type = "catalog.post.registered"
    id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: Platform
    url: Url
    platform_post_id: ShortText | None = None
    registered_at: datetime


@register
class PostRemoved(EventData):
    event_type = "catalog.post.removed"
    id: UUID
    booking_id: UUID
    campaign_id: UUID
    removed_at: datetime


__all__ = [
    "ApiTokenRevoked",
    "ApiTokenUpserted",
    "BookingDeleted",
    "BookingUpserted",
    "CampaignDeleted",
    "CampaignUpserted",
    "ClientUpserted",
    "Handle",
    "InfluencerUpserted",
    "OrganizationUpserted",
    "PostRegistered",
    "PostRemoved",
]
