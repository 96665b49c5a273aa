"""Clients of the agency (brands): name, colour and logo used on share links."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import sql


async def list_clients(
    conn: Connection, *, org_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    at, last = after or (None, None)
    return [dict(r) for r in await conn.fetch(sql.clients_list, org_id, at, last, limit)]


async def get_client(conn: Connection, *, org_id: UUID, client_id: UUID) -> dict[str, Any] | None:
    """The client, locked for the rest of the transaction (reads before a write)."""
    row = await conn.fetchrow(sql.clients_get, org_id, client_id)
    return dict(row) if row else None


async def insert_client(
    conn: Connection,
    *,
    org_id: UUID,
    client_id: UUID,
    name: str,
    brand_color: str | None,
    logo_url: str | None,
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.clients_insert, client_id, org_id, name, brand_color, logo_url)
    assert row is not None
    return dict(row)


async def update_client(
    conn: Connection,
    *,
    org_id: UUID,
    client_id: UUID,
    name: str,
    brand_color: str | None,
    logo_url: str | None,
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.clients_update, org_id, client_id, name, brand_color, logo_url)
    assert row is not None
    return dict(row)


async def delete_client(conn: Connection, *, org_id: UUID, client_id: UUID) -> None:
    await conn.execute(sql.clients_delete, org_id, client_id)


async def client_in_use(conn: Connection, *, org_id: UUID, client_id: UUID) -> bool:
    return bool(await conn.fetchval(sql.clients_in_use, org_id, client_id))
