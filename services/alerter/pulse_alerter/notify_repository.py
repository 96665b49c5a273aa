"""Notification channels and their delivery log through asyncpg; SQL lives in sql/ beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection, SqlFiles

SCHEMA = "alerter"
NOTIFY_CHANNEL = "alerter_notify"  # LISTEN/NOTIFY: wakes the senders of every replica
sql = SqlFiles(Path(__file__).parent / "sql")


@dataclass(frozen=True)
class Listener:
    """A channel an alert event goes to."""

    id: UUID
    kind: str
    format: str


@dataclass(frozen=True)
class NewDelivery:
    id: UUID
    channel_id: UUID
    event_id: UUID | None
    alert_id: UUID | None
    event_type: str
    severity: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for one attempt, with what sending it needs."""

    id: UUID
    channel_id: UUID
    org_id: UUID
    event_type: str
    payload: dict[str, Any]
    attempts: int
    kind: str
    target: str
    format: str
    enabled: bool
    signing_secret: str | None


async def insert_channel(
    conn: Connection,
    *,
    channel_id: UUID,
    org_id: UUID,
    kind: str,
    name: str,
    target: str,
    format: str,
    min_severity: str,
    enabled: bool,
    signing_secret: str | None,
    now: datetime,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.channels_insert,
        channel_id,
        org_id,
        kind,
        name,
        target,
        format,
        min_severity,
        enabled,
        signing_secret,
        now,
    )
    assert row is not None
    return dict(row)


async def list_channels(
    conn: Connection, *, org_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    at, last = after or (None, None)
    return [dict(r) for r in await conn.fetch(sql.channels_list, org_id, at, last, limit)]


async def get_channel(conn: Connection, *, org_id: UUID, channel_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.channels_get, org_id, channel_id)
    return dict(row) if row else None


async def update_channel(
    conn: Connection,
    *,
    org_id: UUID,
    channel_id: UUID,
    name: str,
    target: str,
    format: str,
    min_severity: str,
    enabled: bool,
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        sql.channels_update, org_id, channel_id, name, target, format, min_severity, enabled
    )
    return dict(row) if row else None


async def delete_channel(conn: Connection, *, org_id: UUID, channel_id: UUID) -> bool:
    return await conn.fetchval(sql.channels_delete, org_id, channel_id) is not None


async def channels_for_raise(conn: Connection, *, org_id: UUID, severity: str) -> list[Listener]:
    rows = await conn.fetch(sql.channels_for_raise, org_id, severity)
    return [Listener(r["id"], r["kind"], r["format"]) for r in rows]


async def channels_for_resolve(conn: Connection, *, org_id: UUID, alert_id: UUID) -> list[Listener]:
    rows = await conn.fetch(sql.channels_for_resolve, org_id, alert_id)
    return [Listener(r["id"], r["kind"], r["format"]) for r in rows]


async def insert_deliveries(
    conn: Connection, *, org_id: UUID, deliveries: Sequence[NewDelivery], now: datetime
) -> None:
    """Queue deliveries and wake the senders (the notification is delivered at commit)."""
    if not deliveries:
        return
    await conn.executemany(
        sql.deliveries_insert,
        [
            (
                d.id,
                d.channel_id,
                org_id,
                d.event_id,
                d.alert_id,
                d.event_type,
                d.severity,
                d.payload,
                now,
            )
            for d in deliveries
        ],
    )
    await conn.execute(sql.deliveries_notify, NOTIFY_CHANNEL)


async def claim_due(
    conn: Connection, *, now: datetime, lease_until: datetime, limit: int
) -> list[Claimed]:
    rows = await conn.fetch(sql.deliveries_claim, now, limit, lease_until)
    return [
        Claimed(
            id=r["id"],
            channel_id=r["channel_id"],
            org_id=r["org_id"],
            event_type=r["event_type"],
            payload=r["payload"],
            attempts=r["attempts"],
            kind=r["kind"],
            target=r["target"],
            format=r["format"],
            enabled=r["enabled"],
            signing_secret=r["signing_secret"],
        )
        for r in rows
    ]


async def record_attempt(
    conn: Connection,
    *,
    delivery_id: UUID,
    attempts: int,
    status: str,
    next_attempt_at: datetime | None,
    delivered_at: datetime | None,
    error: str | None,
    status_code: int | None,
) -> None:
    await conn.execute(
        sql.deliveries_record,
        delivery_id,
        attempts,
        status,
        next_attempt_at,
        delivered_at,
        error,
        status_code,
    )


async def next_due(conn: Connection) -> datetime | None:
    found: datetime | None = await conn.fetchval(sql.deliveries_next_due)
    return found


async def list_deliveries(
    conn: Connection,
    *,
    org_id: UUID,
    channel_id: UUID,
    before: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    at, last = before or (None, None)
    rows = await conn.fetch(sql.deliveries_list, org_id, channel_id, at, last, limit)
    return [dict(r) for r in rows]


async def get_delivery(
    conn: Connection, *, org_id: UUID, delivery_id: UUID
) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.deliveries_get, org_id, delivery_id)
    return dict(row) if row else None
