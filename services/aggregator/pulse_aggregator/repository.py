"""aggregator's tables through asyncpg; SQL lives in sql/ beside this module."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
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
from pulse_runtime import tracing
from pulse_runtime.db import Connection, SqlFiles

from .inputs import BookingRef, CampaignRef, Point, PostRef, day_of
from .series import Step, Steps

SCHEMA = "aggregator"
sql = SqlFiles(Path(__file__).parent / "sql")
_COUNTERS = ("views", "likes", "comments", "shares", "saves", "reach")


@dataclass(frozen=True)
class DirtyCampaign:
    campaign_id: UUID
    org_id: UUID
    seq: int
    correlation_id: str
    rebuild: bool = False  # build the campaign's steps again from its closes first


@dataclass(frozen=True)
class CampaignInputs:
    campaign: CampaignRef | None
    bookings: list[BookingRef]
    posts: list[PostRef]
    closes: dict[UUID, list[Point]]


@dataclass(frozen=True)
class CampaignSummary:
    """What a recompute reads: the catalog copies, each post's latest and the booking steps."""

    campaign: CampaignRef | None
    bookings: list[BookingRef]
    posts: list[PostRef]
    latest: dict[UUID, Point]
    steps: dict[tuple[UUID, UUID], Steps]


@dataclass(frozen=True)
class HeldPost:
    """A post as the aggregator knows it, with its newest close."""

    post: PostRef
    newest: Point | None


def _point(row: asyncpg.Record) -> Point:
    # Positional: every query that makes points selects Point's fields in its field order.
    return Point(*row)


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


def trace_key(campaign_id: UUID) -> str:
    """The campaign's entry in trace_marks (pulse_runtime.tracing)."""
    return f"campaign:{campaign_id}"


async def mark_dirty(
    conn: Connection,
    org_id: UUID,
    campaign_ids: set[UUID],
    correlation_id: str,
    *,
    rebuild: frozenset[UUID] | set[UUID] = frozenset(),
) -> None:
    """Marks campaigns for recompute (those in `rebuild` with their steps built again), each
    with the current trace when tracing is on (the recompute publishes inside it)."""
    ordered = sorted(campaign_ids | rebuild)
    if ordered:
        await tracing.remember(conn, SCHEMA, [trace_key(c) for c in ordered])
        await conn.execute(
            sql.mark_dirty, org_id, ordered, correlation_id, [c in rebuild for c in ordered]
        )


async def next_dirty(conn: Connection, *, skip: Sequence[UUID], limit: int) -> list[DirtyCampaign]:
    rows = await conn.fetch(sql.next_dirty, list(skip), limit)
    return [DirtyCampaign(**dict(r)) for r in rows]


async def is_marked(conn: Connection, dirty: DirtyCampaign) -> bool:
    return bool(await conn.fetchval(sql.is_marked, dirty.campaign_id, dirty.seq))


async def try_lock_campaign(conn: Connection, campaign_id: UUID) -> bool:
    """Transaction-scoped: one replica recomputes a campaign at a time."""
    locked: bool = await conn.fetchval(sql.try_lock_campaign, str(campaign_id))
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


async def add_pending(conn: Connection, samples: Sequence[Sample]) -> tuple[set[UUID], int]:
    """Queues a batch's samples for their campaigns' next recompute; returns those campaigns
    and how many samples were queued (those of posts without a row here are not).

    As they came: the fold reduces them to closes, so the subscriber spends nothing on it."""
    if not samples:
        return set(), 0
    rows = await conn.fetch(
        sql.add_pending,
        [s.post_id for s in samples],
        [s.observed_at for s in samples],
        *([getattr(s, name) for s in samples] for name in _COUNTERS),
        [s.estimated for s in samples],
    )
    return {r["campaign_id"] for r in rows}, sum(r["queued"] for r in rows)


async def take_pending(conn: Connection, campaign_id: UUID) -> list[Point]:
    """The closes waiting for this campaign (one per post and day), removed from the queue with
    this transaction."""
    return [_point(r) for r in await conn.fetch(sql.take_pending, campaign_id)]


async def load_newest(conn: Connection, post_ids: Sequence[UUID]) -> dict[UUID, HeldPost]:
    held: dict[UUID, HeldPost] = {}
    for r in await conn.fetch(sql.load_newest, list(post_ids)):
        post = PostRef(
            id=r["id"],
            booking_id=r["booking_id"],
            campaign_id=r["campaign_id"],
            platform=r["platform"],
            removed=r["removed"],
        )
        newest = None
        if r["observed_at"] is not None:
            newest = Point(
                post_id=r["id"], **{k: r[k] for k in ("observed_at", *_COUNTERS, "estimated")}
            )
        held[post.id] = HeldPost(post, newest)
    return held


async def load_closes(conn: Connection, post_ids: Sequence[UUID]) -> dict[UUID, list[Point]]:
    closes: dict[UUID, list[Point]] = {post_id: [] for post_id in post_ids}
    if post_ids:
        for r in await conn.fetch(sql.load_daily, list(post_ids)):
            closes[r["post_id"]].append(_point(r))
    return closes


def _step_columns(changes: Mapping[tuple[UUID, UUID], Steps]) -> list[list[Any]]:
    rows = sorted(
        (campaign_id, booking_id, d, step)
        for (campaign_id, booking_id), by_day in changes.items()
        for d, step in by_day.items()
    )
    return [
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3].views for r in rows],
        [r[3].engagement for r in rows],
        [r[3].live for r in rows],
    ]


async def add_steps(conn: Connection, changes: Mapping[tuple[UUID, UUID], Steps]) -> None:
    """Adds step changes, in key order."""
    if changes:
        await conn.execute(sql.add_steps, *_step_columns(changes))


async def replace_steps(
    conn: Connection, campaign_id: UUID, steps: Mapping[tuple[UUID, UUID], Steps]
) -> None:
    """The campaign's steps built again from scratch."""
    await conn.execute(sql.delete_steps, campaign_id)
    await add_steps(conn, steps)


async def load_summary(conn: Connection, campaign_id: UUID) -> CampaignSummary:
    # Rows become refs positionally: each query selects the dataclass's fields in its order.
    row = await conn.fetchrow(sql.load_campaign, campaign_id)
    campaign = CampaignRef(*row) if row else None
    bookings = [BookingRef(*r) for r in await conn.fetch(sql.load_bookings, campaign_id)]
    posts: list[PostRef] = []
    latest: dict[UUID, Point] = {}
    for r in await conn.fetch(sql.load_posts_latest, campaign_id):
        post = PostRef(*r[:9])
        posts.append(post)
        if r["observed_at"] is not None:
            latest[post.id] = Point(post.id, *r[9:])
    steps: dict[tuple[UUID, UUID], Steps] = {}
    for r in await conn.fetch(sql.load_steps, campaign_id):
        day: date = r["day"]
        steps.setdefault((campaign_id, r["booking_id"]), {})[day] = Step(
            r["views"], r["engagement"], r["live"]
        )
    return CampaignSummary(campaign, bookings, posts, latest, steps)


async def save_numbers(
    conn: Connection, org_id: UUID, doc: CampaignNumbers, envelope_json: str
) -> None:
    """Stores the document as the data of its kpi.updated envelope, serialized once."""
    await conn.execute(sql.save_numbers, doc.campaign.campaign_id, org_id, envelope_json, doc.as_of)


async def delete_numbers(conn: Connection, campaign_id: UUID) -> None:
    await conn.execute(sql.delete_numbers, campaign_id)


async def get_numbers(
    conn: Connection, *, org_id: UUID, campaign_id: UUID
) -> CampaignNumbers | None:
    document = await conn.fetchval(sql.get_numbers, campaign_id, org_id)
    return CampaignNumbers.model_validate_json(document) if document is not None else None


async def list_numbers(
    conn: Connection, *, org_id: UUID, campaign_ids: Sequence[UUID]
) -> list[CampaignNumbers]:
    rows = await conn.fetch(sql.list_numbers, org_id, list(campaign_ids))
    return [CampaignNumbers.model_validate_json(r["document"]) for r in rows]


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


async def register_post(
    conn: Connection, org_id: UUID, p: PostRegistered
) -> tuple[UUID, UUID] | None:
    """The campaign and booking the post was under before, when this registration changed it."""
    row = await conn.fetchrow(
        sql.register_post,
        p.id,
        org_id,
        p.booking_id,
        p.campaign_id,
        p.platform,
        p.url,
        p.registered_at,
    )
    if row is None or row["previous_campaign_id"] is None:
        return None
    return row["previous_campaign_id"], row["previous_booking_id"]


async def remove_post(conn: Connection, org_id: UUID, p: PostRemoved) -> UUID:
    """The campaign the post counted in (its own record's, which the event may not know)."""
    campaign_id: UUID = await conn.fetchval(
        sql.remove_post, p.id, org_id, p.booking_id, p.campaign_id, p.removed_at
    )
    return campaign_id
