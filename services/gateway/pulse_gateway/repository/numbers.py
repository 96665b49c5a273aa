"""The read model's table: each campaign's latest numbers document, as the aggregator sent it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection

from . import sql


async def get_newer_documents(
    conn: Connection,
    *,
    org_id: UUID,
    campaign_ids: Sequence[UUID],
    known: Sequence[datetime | None],
) -> list[asyncpg.Record]:
    """(campaign_id, as_of, document as JSON text or None) of the campaigns that have one; the
    document only where it is newer than the `as_of` already known for that campaign (None:
    nothing known), so re-checking what a replica holds reads a timestamp, not the document."""
    return list(await conn.fetch(sql.numbers_get_newer, org_id, list(campaign_ids), list(known)))


async def save_document(
    conn: Connection, *, org_id: UUID, campaign_id: UUID, as_of: datetime, body: str
) -> bool:
    """Store the document, the `data` of `body` (a kpi.updated envelope's JSON), unless a
    later one is held; True when it was stored."""
    stored = await conn.fetchval(sql.numbers_save, campaign_id, org_id, as_of, body)
    return stored is not None


async def delete_document(conn: Connection, *, org_id: UUID, campaign_id: UUID) -> None:
    await conn.execute(sql.numbers_delete, org_id, campaign_id)
