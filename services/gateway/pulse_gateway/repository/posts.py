"""Tracked posts: the URLs registered on bookings. Removing one stops tracking; history stays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import sql


async def posts_of_campaign(
    conn: Connection,
    *,
    org_id: UUID,
    campaign_id: UUID,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Tracked posts, newest registration first, with their booking's influencer."""
    at, last = after or (None, None)
    rows = await conn.fetch(sql.posts_of_campaign, org_id, campaign_id, at, last, limit)
    return [dict(r) for r in rows]


async def posts_of_bookings(
    conn: Connection, *, org_id: UUID, booking_ids: Sequence[UUID]
) -> list[dict[str, Any]]:
    if not booking_ids:
        return []
    return [dict(r) for r in await conn.fetch(sql.posts_of_bookings, org_id, list(booking_ids))]


async def get_post(conn: Connection, *, org_id: UUID, post_id: UUID) -> dict[str, Any] | None:
    """The tracked post, locked for the rest of the transaction."""
    row = await conn.fetchrow(sql.posts_get, org_id, post_id)
    return dict(row) if row else None


async def read_post(conn: Connection, *, org_id: UUID, post_id: UUID) -> dict[str, Any] | None:
    """The tracked post as a read shows it, unlocked (get_post locks, for writes)."""
    row = await conn.fetchrow(sql.posts_read, org_id, post_id)
    return dict(row) if row else None


async def post_exists(conn: Connection, *, org_id: UUID, post_id: UUID) -> bool:
    """Whether the organization ever tracked this post (a removed one keeps its history)."""
    return bool(await conn.fetchval(sql.posts_exists, org_id, post_id))


async def url_tracked(conn: Connection, *, org_id: UUID, booking_id: UUID, url: str) -> bool:
    return bool(await conn.fetchval(sql.posts_url_tracked, org_id, booking_id, url))


async def insert_post(
    conn: Connection,
    *,
    org_id: UUID,
    post_id: UUID,
    booking_id: UUID,
    campaign_id: UUID,
    platform: str,
    url: str,
    platform_post_id: str | None,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.posts_insert, post_id, org_id, booking_id, campaign_id, platform, url, platform_post_id
    )
    assert row is not None
    return dict(row)


async def remove_post(conn: Connection, *, org_id: UUID, post_id: UUID) -> dict[str, Any]:
    """Stop tracking; returns the post with its `removed_at`."""
    row = await conn.fetchrow(sql.posts_remove, org_id, post_id)
    assert row is not None
    return dict(row)


async def remove_posts_of_booking(
    conn: Connection, *, org_id: UUID, booking_id: UUID
) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(sql.posts_remove_for_booking, org_id, booking_id)]


async def remove_posts_of_campaign(
    conn: Connection, *, org_id: UUID, campaign_id: UUID
) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(sql.posts_remove_for_campaign, org_id, campaign_id)]
