"""Campaigns: what a client bought, with its dates, budget and campaign-level commitments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import in_order, sql
from .influencers import like_pattern


async def list_campaigns(
    conn: Connection,
    *,
    org_id: UUID,
    status: str | None,
    client_id: UUID | None,
    q: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first; `q` matches the name case-insensitively."""
    at, last = after or (None, None)
    rows = await conn.fetch(
        sql.campaigns_list, org_id, status, client_id, like_pattern(q), at, last, limit
    )
    return [dict(r) for r in rows]


async def get_campaign(
    conn: Connection, *, org_id: UUID, campaign_id: UUID
) -> dict[str, Any] | None:
    """The campaign, locked for the rest of the transaction (reads before a write)."""
    row = await conn.fetchrow(sql.campaigns_get, org_id, campaign_id)
    return dict(row) if row else None


async def read_campaign(
    conn: Connection, *, org_id: UUID, campaign_id: UUID
) -> dict[str, Any] | None:
    """The campaign as a read shows it, without locking it (get_campaign locks, for writes:
    a lock on every dashboard read would write the row's lock and queue concurrent readers)."""
    row = await conn.fetchrow(sql.campaigns_read, org_id, campaign_id)
    return dict(row) if row else None


async def campaign_name(conn: Connection, *, org_id: UUID, campaign_id: UUID) -> str | None:
    """The campaign's name, without locking it; None when it is not the organization's."""
    name: str | None = await conn.fetchval(sql.campaigns_name, org_id, campaign_id)
    return name


async def client_exists(conn: Connection, *, org_id: UUID, client_id: UUID) -> bool:
    """Whether the client is the organization's; it cannot be deleted until the commit."""
    return await conn.fetchval(sql.campaigns_client_exists, org_id, client_id) is not None


# What a campaign's insert and update set, in the order both files number them ($3 onwards).
COLUMNS = (
    "client_id",
    "name",
    "status",
    "start_date",
    "end_date",
    "budget_cents",
    "currency",
    "committed_views",
    "committed_engagement",
    "notes",
)


async def insert_campaign(
    conn: Connection, *, org_id: UUID, campaign_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.campaigns_insert, org_id, campaign_id, *in_order(values, COLUMNS))
    assert row is not None
    return dict(row)


async def update_campaign(
    conn: Connection, *, org_id: UUID, campaign_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.campaigns_update, org_id, campaign_id, *in_order(values, COLUMNS))
    assert row is not None
    return dict(row)


async def delete_campaign(conn: Connection, *, org_id: UUID, campaign_id: UUID) -> datetime:
    """Soft-delete; returns the deletion time."""
    deleted_at: datetime = await conn.fetchval(sql.campaigns_delete, org_id, campaign_id)
    return deleted_at


async def existing_ids(conn: Connection, *, org_id: UUID, ids: list[UUID]) -> set[UUID]:
    """Which of `ids` are campaigns of the organization (not deleted)."""
    return {r["id"] for r in await conn.fetch(sql.campaigns_existing, org_id, ids)}
