"""Schedules and their delivery log; SQL lives in sql/ beside this module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from pulse_runtime.db import Connection, SqlFiles

sql = SqlFiles(Path(__file__).parent / "sql")


async def save(
    conn: Connection,
    *,
    org_id: UUID,
    campaign_id: UUID,
    cadence: str,
    recipients: Sequence[str],
    next_due_at: datetime,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.schedule_upsert, uuid4(), org_id, campaign_id, cadence, list(recipients), next_due_at
    )
    assert row is not None
    return dict(row)


async def get(conn: Connection, *, org_id: UUID, campaign_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.schedule_get, org_id, campaign_id)
    return dict(row) if row else None


async def delete(conn: Connection, *, org_id: UUID, campaign_id: UUID) -> bool:
    return await conn.fetchval(sql.schedule_delete, org_id, campaign_id) is not None


async def deliveries(conn: Connection, *, org_id: UUID, campaign_id: UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(sql.delivery_log, org_id, campaign_id)]


async def claim_due(conn: Connection, *, now: datetime) -> dict[str, Any] | None:
    """The most overdue schedule, locked for this transaction (other replicas skip it)."""
    row = await conn.fetchrow(sql.schedule_claim_due, now)
    return dict(row) if row else None


async def advance(conn: Connection, *, schedule_id: UUID, next_due_at: datetime) -> None:
    await conn.execute(sql.schedule_advance, schedule_id, next_due_at)


async def open_delivery(
    conn: Connection,
    *,
    schedule: dict[str, Any],
    period: str,
    replica: str,
    lease_until: datetime,
) -> UUID | None:
    """This period's delivery, claimed by this replica; None if the period has one already."""
    found: UUID | None = await conn.fetchval(
        sql.delivery_insert,
        uuid4(),
        schedule["id"],
        schedule["org_id"],
        schedule["campaign_id"],
        period,
        schedule["recipients"],
        replica,
        lease_until,
    )
    return found


async def reclaim(
    conn: Connection, *, now: datetime, replica: str, lease_until: datetime, max_attempts: int
) -> UUID | None:
    found: UUID | None = await conn.fetchval(
        sql.delivery_reclaim, now, replica, lease_until, max_attempts
    )
    return found


async def delivery(conn: Connection, delivery_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.delivery_get, delivery_id)
    return dict(row) if row else None


async def mark_sent(
    conn: Connection, *, delivery_id: UUID, at: datetime, share_link_id: UUID
) -> None:
    await conn.execute(sql.delivery_sent, delivery_id, at, share_link_id)


async def mark_failed(
    conn: Connection, *, delivery_id: UUID, error: str, max_attempts: int
) -> None:
    await conn.execute(sql.delivery_failed, delivery_id, error, max_attempts)
