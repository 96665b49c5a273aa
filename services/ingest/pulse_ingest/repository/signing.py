"""Webhook signing: each organization's secrets and whether signatures are required."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection

from .statements import sql


async def lock_signing(conn: Connection, org_id: UUID) -> bool:
    """Lock the organization's signing row (created when missing); returns signing_required."""
    await conn.execute(sql.lock_signing, org_id)
    return bool(await conn.fetchval(sql.signing_settings, org_id))


async def active_secrets(conn: Connection, org_id: UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.active_secrets, org_id))


async def list_secrets(conn: Connection, org_id: UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.list_secrets, org_id))


async def insert_secret(
    conn: Connection, *, secret_id: UUID, org_id: UUID, sealed: bytes, hint: str, at: datetime
) -> None:
    await conn.execute(sql.insert_secret, secret_id, org_id, sealed, hint, at)


async def retire_secret(conn: Connection, org_id: UUID, secret_id: UUID, at: datetime) -> bool:
    return await conn.fetchval(sql.retire_secret, org_id, secret_id, at) is not None


async def set_signing_required(conn: Connection, org_id: UUID, required: bool) -> None:
    await conn.execute(sql.set_signing_required, org_id, required)


async def webhook_signing(conn: Connection, org_id: UUID) -> tuple[bool, list[bytes]]:
    row = await conn.fetchrow(sql.webhook_signing, org_id)
    if row is None:
        return False, []
    return bool(row["required"]), [bytes(b) for b in row["sealed"]]
