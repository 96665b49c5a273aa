"""Clients of the agency (brands): name, colour and logo used on share links."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import in_order, sql


async def list_clients(
    conn: Connection, *, org_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    at, last = after or (None, None)
    return [dict(r) for r in await conn.fetch(sql.clients_list, org_id, at, last, limit)]


async def get_client(conn: Connection, *, org_id: UUID, client_id: UUID) -> dict[str, Any] | None:
    """The client, locked for the rest of the transaction (reads before a write)."""
    row = await conn.fetchrow(sql.clients_get, org_id, client_id)
    return dict(row) if row else None


async def read_client(conn: Connection, *, org_id: UUID, client_id: UUID) -> dict[str, Any] | None:
    """The client as a read shows it, unlocked (get_client locks, for writes)."""
    row = await conn.fetchrow(sql.clients_read, org_id, client_id)
    return dict(row) if row else None


# What a client's insert and update set, in the order both files number them ($3 onwards).
COLUMNS = ("name", "brand_color", "logo_url")


async def insert_client(
    conn: Connection, *, org_id: UUID, client_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.clients_insert, org_id, client_id, *in_order(values, COLUMNS))
    assert row is not None
    return dict(row)


async def update_client(
    conn: Connection, *, org_id: UUID, client_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.clients_update, org_id, client_id, *in_order(values, COLUMNS))
    assert row is not None
    return dict(row)


async def delete_client(conn: Connection, *, org_id: UUID, client_id: UUID) -> None:
    await conn.execute(sql.clients_delete, org_id, client_id)


async def client_in_use(conn: Connection, *, org_id: UUID, client_id: UUID) -> bool:
    return bool(await conn.fetchval(sql.clients_in_use, org_id, client_id))
