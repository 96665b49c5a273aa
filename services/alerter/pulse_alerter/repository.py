"""alerter's tables through asyncpg; SQL lives in sql/ beside this module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from pulse_contracts.numbers import CampaignNumbers
from pulse_runtime.db import Connection, SqlFiles

from .domain import AlertState, Condition

SCHEMA = "alerter"
sql = SqlFiles(Path(__file__).parent / "sql")


async def lock_campaign(conn: Connection, campaign_id: UUID) -> None:
    """Evaluations of one campaign (events, sweep, replicas) run one at a time."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 11))", str(campaign_id)
    )


async def save_numbers(conn: Connection, org_id: UUID, doc: CampaignNumbers) -> None:
    await conn.execute(
        sql.save_numbers,
        doc.campaign.campaign_id,
        org_id,
        doc.campaign.status,
        doc.model_dump(mode="json"),
        doc.as_of,
    )


async def load_numbers(conn: Connection, campaign_id: UUID) -> tuple[UUID, CampaignNumbers] | None:
    row = await conn.fetchrow(sql.load_numbers, campaign_id)
    if row is None:
        return None
    return row["org_id"], CampaignNumbers.model_validate(row["document"])


async def delete_numbers(conn: Connection, campaign_id: UUID) -> None:
    await conn.execute(sql.delete_numbers, campaign_id)


async def sweep_campaigns(conn: Connection) -> list[UUID]:
    return [r["campaign_id"] for r in await conn.fetch(sql.sweep_campaigns)]


async def newest_by_key(conn: Connection, keys: Sequence[str]) -> dict[str, AlertState]:
    rows = await conn.fetch(sql.newest_by_key, list(keys))
    return {
        r["debounce_key"]: AlertState(
            id=r["id"], status=r["status"], severity=r["severity"], resolved_at=r["resolved_at"]
        )
        for r in rows
    }


async def open_for_campaign(
    conn: Connection, campaign_id: UUID, types: Sequence[str]
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.open_for_campaign, campaign_id, list(types)))


async def insert_alert(
    conn: Connection, *, alert_id: UUID, org_id: UUID, condition: Condition, now: datetime
) -> None:
    await conn.execute(
        sql.insert_alert,
        alert_id,
        org_id,
        condition.campaign_id,
        condition.booking_id,
        condition.post_id,
        condition.type,
        condition.scope,
        condition.severity,
        condition.message,
        condition.debounce_key,
        now,
    )


async def escalate_alert(
    conn: Connection, alert_id: UUID, *, severity: str, message: str, now: datetime
) -> None:
    await conn.execute(sql.escalate_alert, alert_id, severity, message, now)


async def touch_alert(conn: Connection, alert_id: UUID, *, message: str, now: datetime) -> None:
    await conn.execute(sql.touch_alert, alert_id, now, message)


async def resolve_alert(
    conn: Connection,
    alert_id: UUID,
    *,
    now: datetime,
    by: str,
    user_id: UUID | None = None,
    note: str | None = None,
) -> asyncpg.Record | None:
    """Returns the resolved alert, or None when it was not open (already resolved)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        sql.resolve_alert, alert_id, now, by, user_id, note
    )
    return row


async def add_history(
    conn: Connection,
    alert_id: UUID,
    *,
    at: datetime,
    action: str,
    severity: str,
    actor: str,
    note: str | None = None,
) -> None:
    await conn.execute(sql.add_history, alert_id, at, action, severity, actor, note)


async def list_alerts(
    conn: Connection,
    *,
    org_id: UUID,
    status: str | None,
    type: str | None,
    severity: str | None,
    campaign_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        sql.list_alerts,
        org_id,
        status,
        type,
        severity,
        campaign_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [dict(r) for r in rows]


async def get_alert(conn: Connection, *, org_id: UUID, alert_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.get_alert, org_id, alert_id)
    if row is None:
        return None
    history = await conn.fetch(sql.alert_history, alert_id)
    return {**dict(row), "history": [dict(h) for h in history]}
