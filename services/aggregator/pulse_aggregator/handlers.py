"""aggregator use cases: fold samples in, keep reference copies, recompute campaign numbers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
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
from pulse_runtime import tracing
from pulse_runtime.db import Connection
from pulse_runtime.inbox import first_delivery
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import repository, tags_repository
from .domain import campaign_numbers_from_steps
from .inputs import Point, day_of, newer
from .repository import SCHEMA, DirtyCampaign
from .series import batch_step_changes, booking_steps, needs_history
from .tags import caption_tags, tag_rollup

PRODUCER = "aggregator"
log = get_logger(__name__)


def _closes_of(points: Iterable[Point]) -> list[Point]:
    """The close per (post, UTC day), via the domain's order: one row each to merge."""
    closes: dict[tuple[UUID, date], Point] = {}
    for p in points:
        key = (p.post_id, day_of(p.observed_at))
        if (held := closes.get(key)) is None or newer(p, held):
            closes[key] = p
    return list(closes.values())


class KnownPosts:
    """The posts a process has seen stored in aggregator.posts, so that a batch's samples of
    them skip `ensure_posts`: a post's row is never deleted (a removal is a tombstone), so
    once stored it stays. Under P1 that statement of 500 rows was a tenth of the aggregator's
    CPU, for rows that already existed in every batch but a post's first.

    One per process and database (register_consumers makes it); bounded, because every post
    ever pulled passes through it."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._ids: set[UUID] = set()

    def unknown(self, samples: Sequence[Sample]) -> list[Sample]:
        return [s for s in samples if s.post_id not in self._ids]

    def add(self, post_ids: Iterable[UUID]) -> None:
        ids = set(post_ids)
        if len(self._ids) + len(ids) > self.LIMIT:
            self._ids.clear()  # cheaper than tracking use: a forgotten post costs one ensure
        self._ids |= ids

    def forget(self) -> None:
        self._ids.clear()


class PostRowMissing(RuntimeError):
    """A sample's post had no row in aggregator.posts when its batch was queued."""


async def on_post_pulled(
    pool: asyncpg.Pool, envelope: Envelope[EventData], known: KnownPosts | None = None
) -> bool:
    """Queue a batch's samples for the recompute of the campaigns they touch, and mark those."""
    data = envelope.data
    assert isinstance(data, PostPulled)
    unknown = data.samples if known is None else known.unknown(data.samples)
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return False
        if unknown:
            await repository.ensure_posts(conn, envelope.org_id, unknown)
        campaigns, queued = await repository.add_pending(conn, data.samples)
        if queued != len(data.samples):
            # Only a post `known` wrongly holds can lack a row (a database restored under a
            # running process): roll back, and the redelivery stores every post first.
            if known is not None:
                known.forget()
            raise PostRowMissing(
                f"post.pulled {envelope.event_id}: {len(data.samples) - queued} of "
                f"{len(data.samples)} samples have no post row; retried with every post stored"
            )
        await repository.update_post_facts(conn, data.posts)
        # A caption is read for tags once, when it arrives (a null caption keeps the old one).
        await tags_repository.save_post_tags(
            conn, [(f.post_id, caption_tags(f.caption)) for f in data.posts if f.caption]
        )
        campaigns |= {s.campaign_id for s in data.samples}
        await repository.mark_dirty(conn, envelope.org_id, campaigns, envelope.correlation_id)
    if known is not None:  # committed: their rows are there for good
        known.add(s.post_id for s in unknown)
    return True


async def on_catalog_event(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> bool:
    data = envelope.data
    org = envelope.org_id
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return False
        affected: set[UUID] = set()
        rebuild: set[UUID] = set()  # a post left or moved: its history goes with it
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
                was = await repository.register_post(conn, org, data)
                affected.add(data.campaign_id)
                if was is not None and was != (data.campaign_id, data.booking_id):
                    rebuild.update({was[0], data.campaign_id})
            case PostRemoved():
                rebuild.update({await repository.remove_post(conn, org, data), data.campaign_id})
            case _:
                return False  # clients, influencers, tokens: not part of the numbers
        await repository.mark_dirty(conn, org, affected, envelope.correlation_id, rebuild=rebuild)
    return True


async def next_marks(
    pool: asyncpg.Pool, *, skip: Sequence[UUID], limit: int
) -> list[DirtyCampaign]:
    """The oldest marks, but for the campaigns in `skip`."""
    async with pool.acquire() as conn:
        return await repository.next_dirty(conn, skip=skip, limit=limit)


async def still_marked(pool: asyncpg.Pool, mark: DirtyCampaign) -> bool:
    """Whether `mark` is still waiting (nobody computed the campaign since it was made)."""
    async with pool.acquire() as conn:
        return await repository.is_marked(conn, mark)


async def recompute_dirty(
    pool: asyncpg.Pool, *, now: Callable[[], datetime], batch: int = 50, concurrency: int = 4
) -> int:
    """One pass over the campaigns marked dirty; returns how many documents were published.

    Coalescing falls out of this: however many batches marked a campaign since the last pass,
    it is computed and published once. A pass takes the marks present when it starts (oldest
    first, at most `batch`) and computes `concurrency` campaigns at a time, so its work is
    bounded; marks made meanwhile wait for the next pass. A campaign another replica is
    computing right now is left to it (its mark stays if it came too late for that one).
    """
    dirty = await next_marks(pool, skip=[], limit=batch)
    gate = asyncio.Semaphore(concurrency)

    async def one(item: DirtyCampaign) -> bool:
        async with gate:
            return await recompute_campaign(pool, item, now())

    return sum(await asyncio.gather(*(one(item) for item in dirty)))


async def recompute_campaign(
    pool: asyncpg.Pool,
    dirty: DirtyCampaign,
    now: datetime,
    *,
    sizes: dict[UUID, int] | None = None,
) -> bool:
    """Fold the campaign's waiting closes in and publish its document; False when another
    replica holds the campaign (or a deadlock with one made this attempt give way).

    `sizes`, when given, learns the campaign's tracked posts (the recomputer's lanes)."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            if not await repository.try_lock_campaign(conn, dirty.campaign_id):
                return False
            # Inside the trace of what marked the campaign (a post.pulled), when tracing is on.
            parent = await tracing.recall(conn, SCHEMA, repository.trace_key(dirty.campaign_id))
            with (
                tracing.continued(parent),
                tracing.span("aggregator recompute", campaign_id=str(dirty.campaign_id)),
            ):
                return await _recompute_locked(conn, dirty, now, sizes)
    except asyncpg.DeadlockDetectedError:
        # Only when two campaigns each fold closes of a post that moved to the other (see
        # fold_pending); the mark stays, and the next pass tries again.
        log.warning("recompute gave way in a deadlock", campaign_id=str(dirty.campaign_id))
        return False


async def _recompute_locked(
    conn: Connection, dirty: DirtyCampaign, now: datetime, sizes: dict[UUID, int] | None
) -> bool:
    moved = await fold_pending(conn, dirty.campaign_id)
    if moved:
        await repository.mark_dirty(conn, dirty.org_id, moved, dirty.correlation_id, rebuild=moved)
    if dirty.rebuild:
        await rebuild_steps(conn, dirty.campaign_id)
    inputs = await repository.load_summary(conn, dirty.campaign_id)
    if sizes is not None:
        sizes[dirty.campaign_id] = len(inputs.posts)
    published = False
    if inputs.campaign is not None and inputs.campaign.deleted:
        await repository.delete_numbers(conn, dirty.campaign_id)
        await tags_repository.save_campaign_tags(conn, dirty.campaign_id, dirty.org_id, [])
    else:
        await save_tag_rollup(conn, dirty, inputs)
        doc = campaign_numbers_from_steps(
            campaign=inputs.campaign,
            campaign_id=dirty.campaign_id,
            bookings=inputs.bookings,
            posts=inputs.posts,
            latest=inputs.latest,
            steps=inputs.steps,
            now=now,
        )
        event = make_event(
            doc,
            org_id=dirty.org_id,
            producer=PRODUCER,
            correlation_id=dirty.correlation_id,
        )
        # Serialized once: the outbox body, and the stored document is its data.
        body = event.model_dump_json()
        await repository.save_numbers(conn, dirty.org_id, doc, body)
        await add_to_outbox(conn, SCHEMA, event, body=body.encode())
        published = True
    await repository.clear_dirty(conn, dirty)
    return published


async def save_tag_rollup(
    conn: Connection, dirty: DirtyCampaign, inputs: repository.CampaignSummary
) -> None:
    """The campaign's hashtags and mentions with the figures this recompute just read: the
    rollup moves with the numbers, batch by batch, and a read never scans posts or samples."""
    rows = tag_rollup(
        campaign_id=dirty.campaign_id,
        bookings=inputs.bookings,
        posts=inputs.posts,
        latest=inputs.latest,
        tags=await tags_repository.load_post_tags(conn, dirty.campaign_id),
    )
    await tags_repository.save_campaign_tags(conn, dirty.campaign_id, dirty.org_id, rows)


async def fold_pending(conn: Connection, campaign_id: UUID) -> set[UUID]:
    """Fold the closes waiting for this campaign into the posts' closes and the booking steps.

    The recompute holds the campaign's lock, so it is the one writer of these steps: each post's
    step changes build on the closes it reads, and batches never wait on each other. Returns
    the campaigns whose steps must be rebuilt because a post moved there after its closes were
    queued here (its closes are kept; its steps are that campaign's to build).
    """
    points = await repository.take_pending(conn, campaign_id)
    if not points:
        return set()
    closes = _closes_of(points)
    arriving: dict[UUID, list[Point]] = {}
    for close in closes:
        arriving.setdefault(close.post_id, []).append(close)
    held = await repository.load_newest(conn, list(arriving))
    own = {post_id: h for post_id, h in held.items() if h.post.campaign_id == campaign_id}
    # A late sample needs the post's every close; any other, only its newest.
    late = [
        post_id
        for post_id, h in own.items()
        if not h.post.removed and needs_history(h.newest, arriving[post_id])
    ]
    known = await repository.load_closes(conn, late)
    for post_id, h in own.items():
        if post_id not in known and h.newest is not None:
            known[post_id] = [h.newest]
    changes = batch_step_changes((h.post for h in own.values()), arriving, known)
    await repository.merge_daily(conn, closes)
    await repository.add_steps(conn, changes)
    return {h.post.campaign_id for h in held.values()} - {campaign_id}


async def rebuild_steps(conn: Connection, campaign_id: UUID) -> None:
    """The campaign's booking steps from its closes (after fold_pending: every close is in)."""
    inputs = await repository.load_inputs(conn, campaign_id)
    await repository.replace_steps(conn, campaign_id, booking_steps(inputs.posts, inputs.closes))
