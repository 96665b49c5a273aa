"""aggregator use cases: fold samples in, keep reference copies, recompute campaign numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

import asyncpg

from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.catalog import (
    BookingDeleted,
    BookingUpserted,
    CampaignDeleted,
    CampaignUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_contracts.posts import PostPulled, Sample
from pulse_runtime.inbox import first_delivery
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import repository
from .domain import Point, compute_campaign_numbers, day_of, newer
from .repository import SCHEMA, DirtyCampaign

PRODUCER = "aggregator"
log = get_logger(__name__)


def _point(s: Sample) -> Point:
    return Point(
        post_id=s.post_id,
        observed_at=s.observed_at,
        views=s.views,
        likes=s.likes,
        comments=s.comments,
        shares=s.shares,
        saves=s.saves,
        reach=s.reach,
        estimated=s.estimated,
    )


def daily_closes(samples: list[Sample]) -> list[Point]:
    """The batch's close per (post, UTC day), via the domain's order: one row each to merge."""
    closes: dict[tuple[UUID, date], Point] = {}
    for s in samples:
        p = _point(s)
        key = (p.post_id, day_of(p.observed_at))
        if (held := closes.get(key)) is None or newer(p, held):
            closes[key] = p
    return list(closes.values())


async def on_post_pulled(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> bool:
    """Fold a batch of samples in; the affected campaigns are marked for recompute."""
    data = envelope.data
    assert isinstance(data, PostPulled)
    closes = daily_closes(data.samples)
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return False
        await repository.ensure_posts(conn, envelope.org_id, data.samples)
        await repository.merge_daily(conn, closes)
        await repository.update_post_facts(conn, data.posts)
        campaigns = {s.campaign_id for s in data.samples}
        await repository.mark_dirty(conn, envelope.org_id, campaigns, envelope.correlation_id)
    return True


async def on_catalog_event(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> bool:
    data = envelope.data
    org = envelope.org_id
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return False
        affected: set[UUID] = set()
        match data:
            case CampaignUpserted():
                await repository.upsert_campaign(conn, org, data)
                affected.add(data.id)
            case CampaignDeleted():
                await repository.delete_campaign(conn, org, data)
                affected.add(data.id)
            case BookingUpserted():
                previous = await repository.upsert_booking(conn, org, data)
                affected.update({data.campaign_id} | ({previous} if previous else set()))
            case BookingDeleted():
                await repository.delete_booking(conn, org, data)
                affected.add(data.campaign_id)
            case PostRegistered():
                await repository.register_post(conn, org, data)
                affected.add(data.campaign_id)
            case PostRemoved():
                await repository.remove_post(conn, org, data)
                affected.add(data.campaign_id)
            case _:
                return False  # clients, influencers, tokens: not part of the numbers
        await repository.mark_dirty(conn, org, affected, envelope.correlation_id)
    return True


async def recompute_dirty(
    pool: asyncpg.Pool, *, now: Callable[[], datetime], batch: int = 25
) -> int:
    """Recompute every campaign marked dirty; returns how many documents were published.

    Coalescing falls out of this: however many batches marked a campaign since the last pass,
    it is computed and published once.
    """
    done = 0
    busy: list[UUID] = []  # locked by another replica right now; it will publish them
    while True:
        async with pool.acquire() as conn:
            dirty = await repository.next_dirty(conn, skip=busy, limit=batch)
        if not dirty:
            return done
        for item in dirty:
            if await recompute_campaign(pool, item, now()):
                done += 1
            else:
                busy.append(item.campaign_id)


async def recompute_campaign(pool: asyncpg.Pool, dirty: DirtyCampaign, now: datetime) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        if not await repository.try_lock_campaign(conn, dirty.campaign_id):
            return False
        inputs = await repository.load_inputs(conn, dirty.campaign_id)
        if inputs.campaign is not None and inputs.campaign.deleted:
            await repository.delete_numbers(conn, dirty.campaign_id)
        else:
            doc = compute_campaign_numbers(
                campaign=inputs.campaign,
                campaign_id=dirty.campaign_id,
                bookings=inputs.bookings,
                posts=inputs.posts,
                latest={},  # a post's latest is the close of its newest day
                closes=inputs.closes,
                now=now,
            )
            await repository.save_numbers(conn, dirty.org_id, doc)
            event = make_event(
                doc, org_id=dirty.org_id, producer=PRODUCER, correlation_id=dirty.correlation_id
            )
            await add_to_outbox(conn, SCHEMA, event)
        await repository.clear_dirty(conn, dirty)
    return True
