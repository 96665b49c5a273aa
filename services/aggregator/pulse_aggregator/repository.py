"""aggregator's tables through asyncpg; SQL lives in sql/ beside this module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from pulse_contracts.catalog import (
    BookingDeleted,
    BookingUpserted,
    CampaignDeleted,
    CampaignUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_contracts.numbers import CampaignNumbers
from pulse_contracts.posts import PostFacts, Sample
from pulse_runtime.db import Connection, SqlFiles

from .domain import BookingRef, CampaignRef, Point, PostRef, day_of

SCHEMA = "aggregator"
sql = SqlFiles(Path(__file__).parent / "sql")
_COUNTERS = ("views", "likes", "comments", "shares", "saves", "reach")


@dataclass(frozen=True)
class DirtyCampaign:
    campaign_id: UUID
    org_id: UUID
    seq: int
    correlation_id: str


@dataclass(frozen=True)
class CampaignInputs:
    campaign: CampaignRef | None
    bookings: list[BookingRef]
    posts: list[PostRef]
    closes: dict[UUID, list[Point]]


def _point(row: asyncpg.Record) -> Point:
    return Point(**dict(row))


def _columns(points: Sequence[Point]) -> list[list[Any]]:
    cols: list[list[Any]] = [[p.post_id for p in points], [day_of(p.observed_at) for p in points]]
    cols.append([p.observed_at for p in points])
    cols.extend([getattr(p, name) for p in points] for name in _COUNTERS)
    cols.append([p.estimated for p in points])
    return cols


async def merge_daily(conn: Connection, points: Sequence[Point]) -> None:
    """One point per (post, UTC day), merged so the greater one wins whatever the order."""
    # One lock order for every batch: concurrent replicas never deadlock.
    ordered = sorted(points, key=lambda p: (p.post_id, p.observed_at))
    await conn.execute(sql.upsert_daily, *_columns(ordered))


async def ensure_posts(conn: Connection, org_id: UUID, samples: Sequence[Sample]) -> None:
    first = {s.post_id: s for s in samples}
    ordered = [first[k] for k in sorted(first)]
    await conn.execute(
        sql.ensure_posts,
        org_id,
        [s.post_id for s in ordered],
        [s.booking_id for s in ordered],
        [s.campaign_id for s in ordered],
        [s.platform for s in ordered],
    )


async def update_post_facts(conn: Connection, facts: Sequence[PostFacts]) -> None:
    if not facts:
        return
    ordered = sorted(facts, key=lambda f: f.post_id)
    await conn.execute(
        sql.update_post_facts,
        [f.post_id for f in ordered],
        [f.posted_at for f in ordered],
        [f.caption for f in ordered],
        [f.thumb_url for f in ordered],
    )


async def mark_dirty(
    conn: Connection, org_id: UUID, campaign_ids: set[UUID], correlation_id: str
) -> None:
    if campaign_ids:
        await conn.execute(sql.mark_dirty, org_id, sorted(campaign_ids), correlation_id)


async def next_dirty(conn: Connection, *, skip: Sequence[UUID], limit: int) -> list[DirtyCampaign]:
    rows = await conn.fetch(sql.next_dirty, list(skip), limit)
    return [DirtyCampaign(**dict(r)) for r in rows]


async def try_lock_campaign(conn: Connection, campaign_id: UUID) -> bool:
    """Transaction-scoped: one replica recomputes a campaign at a time."""
    locked: bool = await conn.fetchval(
        "SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 7))", str(campaign_id)
    )
    return locked


async def clear_dirty(conn: Connection, dirty: DirtyCampaign) -> None:
    await conn.execute(sql.clear_dirty, dirty.campaign_id, dirty.seq)


async def load_inputs(
    conn: Connection, campaign_id: UUID, *, influencer_id: UUID | None = None
) -> CampaignInputs:
    row = await conn.fetchrow(sql.load_campaign, campaign_id)
    campaign = CampaignRef(**dict(row)) if row else None
    bookings = [BookingRef(**dict(r)) for r in await conn.fetch(sql.load_bookings, campaign_id)]
    posts = [PostRef(**dict(r)) for r in await conn.fetch(sql.load_posts, campaign_id)]
    if influencer_id is not None:
        mine = {b.id for b in bookings if b.influencer_id == influencer_id}
        posts = [p for p in posts if p.booking_id in mine]
    post_ids = [p.id for p in posts]
    closes: dict[UUID, list[Point]] = {}
    for r in await conn.fetch(sql.load_daily, post_ids):
        closes.setdefault(r["post_id"], []).append(_point(r))
    return CampaignInputs(campaign, bookings, posts, closes)


async def save_numbers(conn: Connection, org_id: UUID, doc: CampaignNumbers) -> None:
    await conn.execute(
        sql.save_numbers,
        doc.campaign.campaign_id,
        org_id,
        doc.model_dump(mode="json"),
        doc.as_of,
    )


async def delete_numbers(conn: Connection, campaign_id: UUID) -> None:
    await conn.execute(sql.delete_numbers, campaign_id)


async def get_numbers(
    conn: Connection, *, org_id: UUID, campaign_id: UUID
) -> CampaignNumbers | None:
    document = await conn.fetchval(sql.get_numbers, campaign_id, org_id)
    return CampaignNumbers.model_validate(document) if document is not None else None


async def list_numbers(
    conn: Connection, *, org_id: UUID, campaign_ids: Sequence[UUID]
) -> list[CampaignNumbers]:
    rows = await conn.fetch(sql.list_numbers, org_id, list(campaign_ids))
    return [CampaignNumbers.model_validate(r["document"]) for r in rows]


async def upsert_campaign(conn: Connection, org_id: UUID, c: CampaignUpserted) -> None:
    await conn.execute(
        sql.upsert_campaign,
        c.id,
        org_id,
        c.client_id,
        c.name,
        c.status,
        c.start_date,
        c.end_date,
        c.budget_cents,
        c.currency,
        c.committed_views,
        c.committed_engagement,
        c.updated_at,
    )


async def delete_campaign(conn: Connection, org_id: UUID, c: CampaignDeleted) -> None:
    await conn.execute(sql.delete_campaign, c.id, org_id, c.deleted_at)


async def upsert_booking(conn: Connection, org_id: UUID, b: BookingUpserted) -> UUID | None:
    """Returns the campaign the booking belonged to before, when it moved."""
    previous: UUID | None = await conn.fetchval(
        sql.upsert_booking,
        b.id,
        org_id,
        b.campaign_id,
        b.influencer_id,
        b.fee_cents,
        b.committed_views,
        b.committed_engagement,
        b.committed_posts,
        b.min_engagement_rate,
        b.updated_at,
    )
    return previous


async def delete_booking(conn: Connection, org_id: UUID, b: BookingDeleted) -> None:
    await conn.execute(sql.delete_booking, b.id, org_id, b.campaign_id, b.deleted_at)


async def register_post(conn: Connection, org_id: UUID, p: PostRegistered) -> None:
    await conn.execute(
        sql.register_post,
        p.id,
        org_id,
        p.booking_id,
        p.campaign_id,
        p.platform,
        p.url,
        p.registered_at,
    )


async def remove_post(conn: Connection, org_id: UUID, p: PostRemoved) -> None:
    await conn.execute(sql.remove_post, p.id, org_id, p.booking_id, p.campaign_id, p.removed_at)
