"""alerter use cases for what arrives: kpi.updated, catalog and post events are noted (reference
copies, evaluation marks) and their campaigns evaluated (evaluation.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from pulse_contracts import Envelope, EventData
from pulse_contracts.catalog import (
    BookingDeleted,
    BookingUpserted,
    CampaignDeleted,
    CampaignUpserted,
    InfluencerUpserted,
    OrganizationUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_contracts.numbers import CampaignNumbers
from pulse_contracts.posts import PostCommentsScored, PostPullFailed
from pulse_runtime.inbox import first_delivery

from . import repository
from .evaluation import evaluate_now
from .messages import NumbersRead
from .repository import SCHEMA

CATALOG_TYPES = (
    OrganizationUpserted,
    InfluencerUpserted,
    CampaignUpserted,
    CampaignDeleted,
    BookingUpserted,
    BookingDeleted,
    PostRegistered,
    PostRemoved,
)


async def note_kpi_updated(
    pool: asyncpg.Pool,
    envelope: Envelope[EventData],
    held: repository.HeldNumbers | None = None,
) -> bool:
    """Keep the newest document and mark its campaign for evaluation; False for a repeat.
    `held` also holds the document decoded, for the evaluation that follows."""
    doc = envelope.data
    assert isinstance(doc, NumbersRead | CampaignNumbers)
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return False
        await repository.save_numbers(conn, envelope.org_id, doc, held)
        await repository.mark_dirty(conn, [doc.campaign.campaign_id], envelope.correlation_id)
    return True


async def on_kpi_updated(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> int:
    """note_kpi_updated, then the campaign's rules at `now`; returns events published."""
    if not await note_kpi_updated(pool, envelope):
        return 0
    assert isinstance(envelope.data, NumbersRead | CampaignNumbers)
    return await evaluate_now(pool, [envelope.data.campaign.campaign_id], now=now)


async def note_catalog_event(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> UUID | None:
    """Keep the copies the rules read; returns the campaign whose subjects changed (marked for
    evaluation), if any."""
    data = envelope.data
    if not isinstance(data, CATALOG_TYPES):
        return None
    org_id = envelope.org_id
    campaign_id: UUID | None = None
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return None
        if isinstance(data, OrganizationUpserted):
            # New thresholds take effect at the next event or sweep (within 5 minutes).
            await repository.upsert_organization(
                conn,
                data.id,
                is_test=data.is_test,
                settings=data.settings,
                updated_at=data.updated_at,
            )
        elif isinstance(data, InfluencerUpserted):
            await repository.upsert_influencer(
                conn,
                data.id,
                org_id=org_id,
                display_name=data.display_name,
                handles=[h.model_dump(mode="json") for h in data.handles],
                updated_at=data.updated_at,
            )
        elif isinstance(data, CampaignUpserted):
            campaign_id = data.id
            await repository.upsert_campaign(
                conn,
                campaign_id=data.id,
                org_id=org_id,
                name=data.name,
                status=data.status,
                start_date=data.start_date,
                end_date=data.end_date,
                updated_at=data.updated_at,
            )
        elif isinstance(data, CampaignDeleted):
            campaign_id = data.id
            await repository.delete_numbers(conn, campaign_id)
            await repository.delete_campaign(
                conn, campaign_id, org_id=org_id, deleted_at=data.deleted_at
            )
        elif isinstance(data, BookingUpserted):
            await repository.upsert_booking(
                conn,
                data.id,
                campaign_id=data.campaign_id,
                influencer_id=data.influencer_id,
                updated_at=data.updated_at,
            )
        elif isinstance(data, BookingDeleted):
            campaign_id = data.campaign_id
            await repository.delete_booking(
                conn, data.id, campaign_id=campaign_id, deleted_at=data.deleted_at
            )
        elif isinstance(data, PostRegistered):
            campaign_id = data.campaign_id
            await repository.register_post(
                conn,
                data.id,
                org_id=org_id,
                campaign_id=campaign_id,
                booking_id=data.booking_id,
                platform=data.platform,
                registered_at=data.registered_at,
            )
        elif isinstance(data, PostRemoved):
            campaign_id = data.campaign_id
            await repository.remove_post(
                conn,
                data.id,
                org_id=org_id,
                campaign_id=campaign_id,
                booking_id=data.booking_id,
                removed_at=data.removed_at,
            )
        if campaign_id is not None:
            await repository.mark_dirty(conn, [campaign_id], envelope.correlation_id)
    return campaign_id


async def on_catalog_event(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> int:
    """note_catalog_event, then the changed campaign's rules at `now`; returns events published."""
    campaign_id = await note_catalog_event(pool, envelope)
    if campaign_id is None:
        return 0
    return await evaluate_now(pool, [campaign_id], now=now)


def _post_event_campaigns(data: EventData) -> list[UUID]:
    # post.pulled is not bound any more (topology's retired binding): each post's newest sample
    # time and posted_at come with kpi.updated. One still queued from before is taken with no
    # effect; its samples reach the alerter in its campaign's next document.
    if isinstance(data, PostPullFailed | PostCommentsScored):
        return [data.campaign_id]
    return []


async def note_post_event(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> list[UUID]:
    """post.pull_failed / post.comments_scored: note what they tell about the post; returns the
    campaigns marked for evaluation (none for a repeat)."""
    data = envelope.data
    org_id = envelope.org_id
    campaign_ids = _post_event_campaigns(data)
    if not campaign_ids:
        return []
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return []
        if isinstance(data, PostPullFailed):
            await repository.post_failures(
                conn,
                data.post_id,
                org_id=org_id,
                campaign_id=data.campaign_id,
                booking_id=data.booking_id,
                failures=data.consecutive_failures,
                at=envelope.occurred_at,
            )
        elif isinstance(data, PostCommentsScored):
            await repository.post_comments(
                conn,
                data.post_id,
                org_id=org_id,
                campaign_id=data.campaign_id,
                booking_id=data.booking_id,
                platform=data.platform,
                analysed=data.analysed,
                negative=data.negative,
                scored_at=data.scored_at,
            )
        await repository.mark_dirty(conn, campaign_ids, envelope.correlation_id)
    return campaign_ids


async def on_post_event(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> int:
    """note_post_event, then the marked campaigns' rules at `now`; returns events published."""
    campaign_ids = await note_post_event(pool, envelope)
    return await evaluate_now(pool, campaign_ids, now=now)
