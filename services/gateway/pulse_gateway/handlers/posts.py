"""Register post URLs on bookings and stop tracking them (their history is kept)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from pulse_contracts.catalog import PostRegistered, PostRemoved
from pulse_contracts.post_urls import PostUrlError, parse_post_url
from pulse_runtime.db import Connection
from pulse_runtime.errors import Conflict, Invalid, NotFound

from ..db import org_transaction, record
from ..deps import Principal
from ..repository import bookings as bookings_repo
from ..repository import posts as repo


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=4096)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "removed_at"}


async def register_post(
    pool: asyncpg.Pool, caller: Principal, booking_id: UUID, url: str
) -> dict[str, Any]:
    """Track a pasted post URL on the booking; ingest starts pulling it on the event."""
    try:
        parsed = parse_post_url(url)
    except PostUrlError as exc:
        raise Invalid("url", str(exc)) from exc
    async with org_transaction(pool, caller.org_id) as conn:
        booking = await bookings_repo.get_booking(conn, org_id=caller.org_id, booking_id=booking_id)
        if booking is None:
            raise NotFound(f"no booking {booking_id}")
        if await repo.url_tracked(
            conn, org_id=caller.org_id, booking_id=booking_id, url=parsed.url
        ):
            raise Conflict(f"{parsed.url} is already tracked on this booking")
        try:
            row = await repo.insert_post(
                conn,
                org_id=caller.org_id,
                post_id=uuid4(),
                booking_id=booking_id,
                campaign_id=booking["campaign_id"],
                platform=parsed.platform,
                url=parsed.url,
                platform_post_id=parsed.platform_post_id,
            )
        except asyncpg.UniqueViolationError as exc:  # registered concurrently
            raise Conflict(f"{parsed.url} is already tracked on this booking") from exc
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="create",
            entity="post",
            entity_id=row["id"],
            before=None,
            after=row,
            event=PostRegistered(
                id=row["id"],
                booking_id=row["booking_id"],
                campaign_id=row["campaign_id"],
                platform=row["platform"],
                url=row["url"],
                platform_post_id=row["platform_post_id"],
                registered_at=row["registered_at"],
            ),
        )
    return row


async def remove_post(pool: asyncpg.Pool, caller: Principal, post_id: UUID) -> None:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_post(conn, org_id=caller.org_id, post_id=post_id)
        if before is None:
            raise NotFound(f"no post {post_id}")
        row = await repo.remove_post(conn, org_id=caller.org_id, post_id=post_id)
        await record_removals(conn, caller, [row])


async def record_removals(conn: Connection, caller: Principal, rows: list[dict[str, Any]]) -> None:
    """The audit row and `catalog.post.removed` of each post whose tracking just stopped."""
    for row in rows:
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="delete",
            entity="post",
            entity_id=row["id"],
            before=_public(row),
            after=row,
            event=PostRemoved(
                id=row["id"],
                booking_id=row["booking_id"],
                campaign_id=row["campaign_id"],
                removed_at=row["removed_at"],
            ),
        )
