"""ingest use cases: store a batch of items as samples, keep the catalog copies current."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from pulse_contracts import Envelope, EventData, make_event, utcnow
from pulse_contracts.catalog import (
    ApiTokenRevoked,
    ApiTokenUpserted,
    CampaignDeleted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_contracts.posts import FetchPosts, FetchTarget, PostFacts, PostPulled, Sample
from pulse_contracts.values import PULLED_PLATFORMS
from pulse_runtime.db import Connection
from pulse_runtime.inbox import first_delivery
from pulse_runtime.outbox import add_to_outbox

from . import repository
from .domain import (
    BodyError,
    Candidate,
    Match,
    Rejection,
    lookup_keys,
    match,
    parse_body,
    prepare,
)

PRODUCER = "ingest"
MAX_CAPTION = 5000
Source = Literal["http", "amqp", "provider", "import"]


@dataclass(frozen=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_response(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [
                {"index": r.index, "code": r.code, "message": r.message} for r in self.rejected
            ],
        }


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def authenticate(pool: asyncpg.Pool, token: str | None) -> UUID | None:
    if not token:
        return None
    async with pool.acquire() as conn:
        return await repository.find_token_org(conn, token_sha256=token_digest(token))


async def ingest_items(
    pool: asyncpg.Pool,
    *,
    org_id: UUID,
    items: list[Any],
    source: Source,
    now: datetime,
    correlation_id: str,
) -> IngestResult:
    """Store what is valid, keep what is not with its reason; one post.pulled per batch."""
    async with pool.acquire() as conn, conn.transaction():
        return await store_items(
            conn,
            org_id=org_id,
            items=items,
            source=source,
            now=now,
            correlation_id=correlation_id,
        )


async def store_items(
    conn: Connection,
    *,
    org_id: UUID,
    items: list[Any],
    source: Source,
    now: datetime,
    correlation_id: str,
) -> IngestResult:
    """`ingest_items` inside the caller's transaction (the provider path adds its pull runs and
    pull state to the same commit)."""
    candidates: list[Candidate] = []
    rejections: list[Rejection] = []
    for index, item in enumerate(items):
        prepared = prepare(index, item, now)
        (rejections if isinstance(prepared, Rejection) else candidates).append(prepared)  # type: ignore[arg-type]
    raw_by_index = dict(enumerate(items))
    ids, ppids, urls = lookup_keys(candidates)
    posts = await repository.load_posts(conn, org_id=org_id, ids=ids, ppids=ppids, urls=urls)
    matches, unmatched = match(candidates, posts, raw_by_index)
    rejections.extend(unmatched)
    stored = (
        await repository.insert_samples(conn, matches=matches, source=source) if matches else set()
    )
    accepted = _first_per_key(matches, stored)
    facts = await repository.update_post_facts(conn, _facts(matches))
    await repository.insert_rejections(
        conn, org_id=org_id, channel=source, rejections=sorted(rejections, key=_by_index)
    )
    if accepted:
        event = make_event(
            PostPulled(
                samples=[_sample(m, source) for m in accepted],
                posts=[
                    PostFacts(
                        post_id=row["id"],
                        posted_at=row["posted_at"],
                        caption=(row["caption"] or None) and row["caption"][:MAX_CAPTION],
                        thumb_url=row["thumb_url"],
                    )
                    for row in facts
                ],
            ),
            org_id=org_id,
            producer=PRODUCER,
            correlation_id=correlation_id,
        )
        await add_to_outbox(conn, repository.SCHEMA, event)
    return IngestResult(
        accepted=len(accepted),
        duplicates=len(matches) - len(accepted),
        rejected=sorted(rejections, key=_by_index),
    )


async def ingest_message(
    pool: asyncpg.Pool,
    *,
    body: bytes,
    token: str | None,
    now: datetime,
    correlation_id: str,
) -> IngestResult:
    """An n8n message from pulse.ingest: bad ones are recorded as rejected and acked."""
    org_id = await authenticate(pool, token)
    if org_id is None:
        rejection = Rejection(
            None, "unauthorized", "missing or unknown x-pulse-key header", _text(body)
        )
        await _reject_whole(pool, None, rejection)
        return IngestResult(rejected=[rejection])
    try:
        items = parse_body(body)
    except BodyError as exc:
        rejection = Rejection(None, "invalid_body", str(exc), _text(body))
        await _reject_whole(pool, org_id, rejection)
        return IngestResult(rejected=[rejection])
    return await ingest_items(
        pool, org_id=org_id, items=items, source="amqp", now=now, correlation_id=correlation_id
    )


async def reject_body(pool: asyncpg.Pool, org_id: UUID, body: bytes, message: str) -> None:
    """Keep an HTTP body that could not be parsed, so nothing sent to Pulse is lost."""
    await _reject_whole(pool, org_id, Rejection(None, "invalid_body", message, _text(body)), "http")


async def _reject_whole(
    pool: asyncpg.Pool, org_id: UUID | None, rejection: Rejection, channel: str = "amqp"
) -> None:
    async with pool.acquire() as conn:
        await repository.insert_rejections(
            conn, org_id=org_id, channel=channel, rejections=[rejection]
        )


def _text(body: bytes) -> dict[str, str]:
    return {"unparsed": body.decode("utf-8", errors="replace")}


def _by_index(r: Rejection) -> int:
    return -1 if r.index is None else r.index


def _first_per_key(matches: list[Match], stored: set[tuple[int, datetime]]) -> list[Match]:
    """The matches that became new rows: one per stored key (repeats in a batch are duplicates)."""
    remaining = set(stored)
    accepted = []
    for m in matches:
        key = (m.post.key, m.candidate.observed_at)
        if key in remaining:
            remaining.discard(key)
            accepted.append(m)
    return accepted


def _facts(matches: list[Match]) -> list[tuple[UUID, datetime | None, str | None, str | None]]:
    newest: dict[UUID, Candidate] = {}
    for m in matches:
        c = m.candidate
        if c.posted_at or c.caption or c.thumb_url:
            seen = newest.get(m.post.id)
            if seen is None or c.observed_at >= seen.observed_at:
                newest[m.post.id] = c
    return [(pid, c.posted_at, c.caption, c.thumb_url) for pid, c in sorted(newest.items())]


def _sample(m: Match, source: Source) -> Sample:
    c = m.candidate.metrics
    return Sample(
        post_id=m.post.id,
        booking_id=m.post.booking_id,
        campaign_id=m.post.campaign_id,
        platform=m.post.platform,
        observed_at=m.candidate.observed_at,
        views=c.views,
        likes=c.likes,
        comments=c.comments,
        shares=c.shares,
        saves=c.saves,
        reach=c.reach,
        source=source,
        estimated=m.candidate.estimated,
    )


async def on_catalog_event(
    pool: asyncpg.Pool,
    envelope: Envelope[EventData],
    *,
    start_tracking: bool = False,
    now: datetime | None = None,
) -> None:
    """Keep ingest's copies of organizations, ingest tokens, campaigns and tracked posts
    current. With `start_tracking` (pulling enabled), a newly registered post gets one
    high-priority fetch command through the outbox, in the same transaction."""
    data = envelope.data
    if not isinstance(
        data,
        OrganizationUpserted
        | ApiTokenUpserted
        | ApiTokenRevoked
        | CampaignUpserted
        | CampaignDeleted
        | PostRegistered
        | PostRemoved,
    ):
        return  # other catalog entities are not ingest's concern
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, repository.SCHEMA, envelope.event_id, envelope.type):
            return
        match data:
            case OrganizationUpserted():
                await repository.upsert_organization(conn, data)
            case ApiTokenUpserted():
                await repository.upsert_token(conn, data)
            case ApiTokenRevoked():
                await repository.revoke_token(conn, data)
            case CampaignUpserted():
                await repository.upsert_campaign(conn, envelope.org_id, data)
            case CampaignDeleted():
                await repository.delete_campaign(conn, envelope.org_id, data)
            case PostRegistered():
                applied = await repository.register_post(conn, envelope.org_id, data)
                if (
                    start_tracking
                    and applied is not None
                    and not applied["removed"]
                    and not applied["deleted"]
                    and data.platform in PULLED_PLATFORMS
                    and not await repository.org_is_test(conn, envelope.org_id)
                ):
                    await enqueue_fetch(
                        conn,
                        org_id=envelope.org_id,
                        targets=[
                            FetchTarget(post_id=data.id, platform=data.platform, url=data.url)
                        ],
                        priority="high",
                        reason="start_tracking",
                        now=now or utcnow(),
                        correlation_id=envelope.correlation_id,
                    )
            case PostRemoved():
                await repository.remove_post(conn, envelope.org_id, data)


async def enqueue_fetch(
    conn: Connection,
    *,
    org_id: UUID,
    targets: list[FetchTarget],
    priority: Literal["high", "low"],
    reason: Literal["start_tracking", "scheduled", "manual"],
    now: datetime,
    correlation_id: str | None = None,
) -> Envelope[FetchPosts]:
    """A FetchPosts command through the outbox to ingest.fetch.<priority>; the posts are marked
    pending so the scheduler does not enqueue them again meanwhile."""
    envelope = make_event(
        FetchPosts(priority=priority, reason=reason, posts=targets),
        org_id=org_id,
        producer=PRODUCER,
        correlation_id=correlation_id,
        occurred_at=now,
    )
    await repository.mark_queued(conn, [t.post_id for t in targets], now)
    await add_to_outbox(conn, repository.SCHEMA, envelope, routing_key=f"ingest.fetch.{priority}")
    return envelope
