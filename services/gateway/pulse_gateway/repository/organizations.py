"""The agency itself: its name, test flag and settings (alert thresholds among them)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import sql


async def get_organization(conn: Connection, *, org_id: UUID) -> dict[str, Any] | None:
    """The organization, locked for the rest of the transaction (reads before a write)."""
    row = await conn.fetchrow(sql.organizations_get, org_id)
    return dict(row) if row else None


async def update_settings(
    conn: Connection, *, org_id: UUID, settings: dict[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.organizations_update_settings, org_id, settings)
    assert row is not None
    return dict(row)


async def api_limit(conn: Connection, *, org_id: UUID) -> int | None:
    """The organization's own requests per minute, or None for the gateway's default."""
    value: int | None = await conn.fetchval(sql.organizations_api_limit, org_id)
    return value


async def update_api_limit(
    conn: Connection, *, org_id: UUID, requests_per_minute: int | None
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.organizations_update_api_limit, org_id, requests_per_minute)
    assert row is not None
    return dict(row)


async def emv_rates(conn: Connection, *, org_id: UUID) -> dict[str, Any] | None:
    """The organization's own EMV rate overrides, or None when it chose none."""
    value: dict[str, Any] | None = await conn.fetchval(sql.organizations_emv_rates, org_id)
    return value
