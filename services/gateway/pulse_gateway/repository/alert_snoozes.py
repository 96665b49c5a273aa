"""Snoozed alerts: until when the triage list leaves each one out (the alerter owns alerts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from pulse_runtime.db import Connection

from . import sql


async def snooze(
    conn: Connection, *, org_id: UUID, alert_id: UUID, until: datetime, user_id: UUID | None
) -> datetime:
    """Snooze (or re-snooze) one alert; returns the moment it comes back."""
    row = await conn.fetchrow(sql.alert_snoozes_save, org_id, alert_id, until, user_id)
    assert row is not None
    moment: datetime = row["until"]
    return moment


async def snoozed(
    conn: Connection, *, org_id: UUID, alert_ids: Sequence[UUID], now: datetime
) -> dict[UUID, datetime]:
    """Of these alerts, the ones snoozed past `now`, with when each comes back."""
    if not alert_ids:
        return {}
    rows = await conn.fetch(sql.alert_snoozes_active, org_id, list(alert_ids), now)
    return {r["alert_id"]: r["until"] for r in rows}
