"""alerter use cases: evaluate a campaign's rules, apply the debounce life cycle, resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.alerts import AlertRaised, AlertResolved
from pulse_contracts.catalog import CampaignDeleted
from pulse_contracts.numbers import CampaignNumbers
from pulse_runtime.db import Connection
from pulse_runtime.errors import ApiError
from pulse_runtime.inbox import first_delivery
from pulse_runtime.outbox import add_to_outbox

from . import repository
from .domain import Action, Condition, decide, evaluate_under_kpi
from .repository import SCHEMA

PRODUCER = "alerter"
CAMPAIGN_RULES = ("under_kpi",)
SWEEP_LOCK = 0x5055_4C53  # "PULS": one sweeper across replicas


async def on_kpi_updated(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> int:
    """Keep the newest document and evaluate the campaign's rules; returns events published."""
    doc = envelope.data
    assert isinstance(doc, CampaignNumbers)
    campaign_id = doc.campaign.campaign_id
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return 0
        await repository.lock_campaign(conn, campaign_id)
        await repository.save_numbers(conn, envelope.org_id, doc)
        stored = await repository.load_numbers(conn, campaign_id)
        assert stored is not None
        return await evaluate_campaign(
            conn, org_id=stored[0], doc=stored[1], now=now, correlation_id=envelope.correlation_id
        )


async def on_catalog_event(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> int:
    data = envelope.data
    if not isinstance(data, CampaignDeleted):
        return 0
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return 0
        await repository.lock_campaign(conn, data.id)
        await repository.delete_numbers(conn, data.id)
        return await _resolve_all_open(
            conn, data.id, now=now, correlation_id=envelope.correlation_id
        )


async def sweep(pool: asyncpg.Pool, now: datetime) -> int:
    """Time passes without data: re-evaluate every live campaign. One replica at a time."""
    published = 0
    async with pool.acquire() as lock_conn:
        if not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK):
            return 0
        try:
            campaign_ids = await repository.sweep_campaigns(lock_conn)
            for campaign_id in campaign_ids:
                published += await _sweep_one(pool, campaign_id, now)
        finally:
            await lock_conn.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK)
    return published


async def _sweep_one(pool: asyncpg.Pool, campaign_id: UUID, now: datetime) -> int:
    correlation_id = str(uuid4())
    async with pool.acquire() as conn, conn.transaction():
        await repository.lock_campaign(conn, campaign_id)
        stored = await repository.load_numbers(conn, campaign_id)
        if stored is None:  # the campaign is gone: nothing left to act on
            return await _resolve_all_open(
                conn, campaign_id, now=now, correlation_id=correlation_id
            )
        return await evaluate_campaign(
            conn, org_id=stored[0], doc=stored[1], now=now, correlation_id=correlation_id
        )


async def evaluate_campaign(
    conn: Connection,
    *,
    org_id: UUID,
    doc: CampaignNumbers,
    now: datetime,
    correlation_id: str,
) -> int:
    conditions = evaluate_under_kpi(doc, now)
    keys = {c.debounce_key for c in conditions}
    newest = await repository.newest_by_key(conn, sorted(keys))
    events: list[Envelope[Any]] = []
    for condition in conditions:
        current = newest.get(condition.debounce_key)
        action = decide(condition, current, now)
        event = await _apply(conn, org_id, condition, action, current.id if current else None, now)
        if event is not None:
            events.append(
                make_event(event, org_id=org_id, producer=PRODUCER, correlation_id=correlation_id)
            )
    # Alerts whose subject left the document (a deleted booking) can no longer hold.
    for row in await repository.open_for_campaign(conn, doc.campaign.campaign_id, CAMPAIGN_RULES):
        if row["debounce_key"] not in keys:
            resolved = await _resolve(conn, row["id"], now=now, by="system")
            if resolved is not None:
                events.append(
                    make_event(
                        resolved, org_id=org_id, producer=PRODUCER, correlation_id=correlation_id
                    )
                )
    for envelope in events:
        await add_to_outbox(conn, SCHEMA, envelope)
    return len(events)


async def _apply(
    conn: Connection,
    org_id: UUID,
    condition: Condition,
    action: Action,
    current_id: UUID | None,
    now: datetime,
) -> EventData | None:
    if action is Action.RAISE:
        assert condition.severity is not None
        alert_id = uuid4()
        await repository.insert_alert(
            conn, alert_id=alert_id, org_id=org_id, condition=condition, now=now
        )
        await repository.add_history(
            conn, alert_id, at=now, action="raised", severity=condition.severity, actor="system"
        )
        return _raised(alert_id, condition, now, escalated=False)
    assert current_id is not None or action is Action.NONE
    if action is Action.ESCALATE and current_id is not None:
        assert condition.severity is not None
        await repository.escalate_alert(
            conn, current_id, severity=condition.severity, message=condition.message, now=now
        )
        await repository.add_history(
            conn,
            current_id,
            at=now,
            action="escalated",
            severity=condition.severity,
            actor="system",
        )
        return _raised(current_id, condition, now, escalated=True)
    if action is Action.TOUCH and current_id is not None:
        await repository.touch_alert(conn, current_id, message=condition.message, now=now)
    if action is Action.RESOLVE and current_id is not None:
        return await _resolve(conn, current_id, now=now, by="system")
    return None


def _raised(alert_id: UUID, c: Condition, now: datetime, *, escalated: bool) -> AlertRaised:
    assert c.severity is not None
    return AlertRaised(
        alert_id=alert_id,
        campaign_id=c.campaign_id,
        booking_id=c.booking_id,
        post_id=c.post_id,
        type=c.type,
        severity=c.severity,
        message=c.message,
        debounce_key=c.debounce_key,
        raised_at=now,
        escalated=escalated,
    )


async def _resolve(
    conn: Connection,
    alert_id: UUID,
    *,
    now: datetime,
    by: str,
    user_id: UUID | None = None,
    note: str | None = None,
) -> AlertResolved | None:
    row = await repository.resolve_alert(conn, alert_id, now=now, by=by, user_id=user_id, note=note)
    if row is None:
        return None
    await repository.add_history(
        conn,
        alert_id,
        at=now,
        action="resolved",
        severity=row["severity"],
        actor=f"user:{user_id}" if user_id else by,
        note=note,
    )
    return AlertResolved(
        alert_id=row["id"],
        campaign_id=row["campaign_id"],
        booking_id=row["booking_id"],
        post_id=row["post_id"],
        type=row["type"],
        severity=row["severity"],
        message=row["message"],
        debounce_key=row["debounce_key"],
        resolved_at=now,
        resolved_by="user" if by == "user" else "system",
        note=note,
    )


async def _resolve_all_open(
    conn: Connection, campaign_id: UUID, *, now: datetime, correlation_id: str
) -> int:
    published = 0
    for row in await repository.open_for_campaign(conn, campaign_id, CAMPAIGN_RULES):
        resolved = await _resolve(conn, row["id"], now=now, by="system")
        if resolved is not None:
            event = make_event(
                resolved, org_id=row["org_id"], producer=PRODUCER, correlation_id=correlation_id
            )
            await add_to_outbox(conn, SCHEMA, event)
            published += 1
    return published


async def resolve_by_user(
    pool: asyncpg.Pool,
    *,
    org_id: UUID,
    alert_id: UUID,
    user_id: UUID | None,
    note: str | None,
    now: datetime,
    correlation_id: str,
) -> dict[str, Any]:
    """Staff resolve by hand; resolving an already resolved alert changes nothing."""
    async with pool.acquire() as conn, conn.transaction():
        alert = await repository.get_alert(conn, org_id=org_id, alert_id=alert_id)
        if alert is None:
            raise ApiError(404, f"no alert {alert_id}")
        if alert["campaign_id"] is not None:
            await repository.lock_campaign(conn, alert["campaign_id"])
        resolved = await _resolve(conn, alert_id, now=now, by="user", user_id=user_id, note=note)
        if resolved is not None:
            await add_to_outbox(
                conn,
                SCHEMA,
                make_event(
                    resolved, org_id=org_id, producer=PRODUCER, correlation_id=correlation_id
                ),
            )
        found = await repository.get_alert(conn, org_id=org_id, alert_id=alert_id)
    assert found is not None
    return found
