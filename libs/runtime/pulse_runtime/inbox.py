"""Inbox: an event's effects and the record that it was handled commit in one transaction."""

from __future__ import annotations

from uuid import UUID

from .db import Connection


async def first_delivery(conn: Connection, schema: str, event_id: UUID, event_type: str) -> bool:
    """True the first time this event id is seen; call inside the effect's transaction."""
    inserted = await conn.fetchval(
        f"INSERT INTO {schema}.inbox (event_id, event_type) VALUES ($1, $2) "
        "ON CONFLICT (event_id) DO NOTHING RETURNING true",
        event_id,
        event_type,
    )
    return bool(inserted)
