"""Bookings: one influencer in one campaign, with the fee and what the creator committed to."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection

from . import in_order, sql


def _row(record: asyncpg.Record) -> dict[str, Any]:
    row = dict(record)
    rate = row.get("min_engagement_rate")
    row["min_engagement_rate"] = float(rate) if rate is not None else None
    return row


def _rate(value: float | None) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


async def list_bookings(
    conn: Connection,
    *,
    org_id: UUID,
    campaign_id: UUID,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    at, last = after or (None, None)
    rows = await conn.fetch(sql.bookings_list, org_id, campaign_id, at, last, limit)
    return [_row(r) for r in rows]


async def bookings_of_influencer(
    conn: Connection, *, org_id: UUID, influencer_id: UUID
) -> list[dict[str, Any]]:
    """Every live booking of the influencer, with its campaign's name, status and currency."""
    return [_row(r) for r in await conn.fetch(sql.bookings_of_influencer, org_id, influencer_id)]


async def get_booking(conn: Connection, *, org_id: UUID, booking_id: UUID) -> dict[str, Any] | None:
    """The booking (of a live campaign), locked for the rest of the transaction."""
    row = await conn.fetchrow(sql.bookings_get, org_id, booking_id)
    return _row(row) if row else None


async def read_booking(
    conn: Connection, *, org_id: UUID, booking_id: UUID
) -> dict[str, Any] | None:
    """The booking as a read shows it, unlocked (get_booking locks, for writes)."""
    row = await conn.fetchrow(sql.bookings_read, org_id, booking_id)
    return _row(row) if row else None


# What a booking's update sets, in the order both files number them ($3 onwards); the insert
# adds the campaign, which a booking never changes, as the last parameter.
COLUMNS = (
    "influencer_id",
    "fee_cents",
    "committed_views",
    "committed_engagement",
    "committed_posts",
    "min_engagement_rate",
    "exclusivity_days",
    "usage_rights_days",
    "notes",
)


def _params(values: Mapping[str, Any]) -> list[Any]:
    return in_order(
        {**values, "min_engagement_rate": _rate(values["min_engagement_rate"])}, COLUMNS
    )


async def insert_booking(
    conn: Connection,
    *,
    org_id: UUID,
    booking_id: UUID,
    campaign_id: UUID,
    values: Mapping[str, Any],
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.bookings_insert, org_id, booking_id, *_params(values), campaign_id
    )
    assert row is not None
    return _row(row)


async def update_booking(
    conn: Connection, *, org_id: UUID, booking_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.bookings_update, org_id, booking_id, *_params(values))
    assert row is not None
    return _row(row)


async def delete_booking(conn: Connection, *, org_id: UUID, booking_id: UUID) -> datetime:
    """Soft-delete; returns the deletion time."""
    deleted_at: datetime = await conn.fetchval(sql.bookings_delete, org_id, booking_id)
    return deleted_at


async def creators_of_campaign(
    conn: Connection, *, org_id: UUID, campaign_id: UUID
) -> list[dict[str, Any]]:
    """Each live booking of the campaign with its creator's name (the Benchmarks comparison)."""
    return [dict(r) for r in await conn.fetch(sql.bookings_creators, org_id, campaign_id)]
