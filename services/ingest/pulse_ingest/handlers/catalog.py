"""Catalog events: ingest's copies of organizations, tokens, campaigns and tracked posts, and the
fetch commands a newly registered post starts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
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
from pulse_contracts.posts import (
    FetchPosts,
    FetchTarget,
)
from pulse_contracts.values import PULLED_PLATFORMS
from pulse_runtime.db import Connection
from pulse_runtime.inbox import first_delivery
from pulse_runtime.outbox import add_to_outbox

from .. import held, repository
from ..tokens import TokenCache
from .samples import PRODUCER, store_items


async def on_catalog_event(
    pool: asyncpg.Pool,
    envelope: Envelope[EventData],
    *,
    start_tracking: bool = False,
    now: datetime | None = None,
    tokens: TokenCache | None = None,
) -> None:
    """Keep ingest's copies of organizations, ingest tokens, campaigns and tracked posts
    current. With `start_tracking` (pulling enabled), a newly registered post gets one
    high-priority fetch command through the outbox, in the same transaction. A changed or
    revoked token is forgotten by this replica's token cache at once."""
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
                if applied is not None and not applied["removed"]:
                    await held.apply_held(
                        conn,
                        org_id=envelope.org_id,
                        post=data,
                        now=now or utcnow(),
                        store=store_items,
                    )
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
    if tokens is not None and isinstance(data, ApiTokenUpserted | ApiTokenRevoked):
        tokens.forget(data.id)


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
