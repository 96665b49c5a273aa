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
