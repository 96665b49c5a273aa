"""Evaluating a campaign's alert rules and applying the debounce life cycle (design/kpis.md,
"Debounce and life cycle"): raise, escalate, resolve, in one transaction per campaign."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, get_args
from uuid import UUID, uuid4

import asyncpg
from pydantic import ValidationError

from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.alerts import AlertRaised, AlertResolved, AlertThresholds
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers
from pulse_contracts.values import AlertType
from pulse_runtime.db import Connection
from pulse_runtime.errors import NotFound
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import repository
from .context import CampaignContext
from .domain import Action, Condition, decide
from .repository import SCHEMA
from .rules import evaluate_all

PRODUCER = "alerter"
# Every rule is evaluated per campaign, so every type's leftovers resolve with the campaign.
CAMPAIGN_RULES: tuple[AlertType, ...] = get_args(AlertType)

log = get_logger(__name__)


async def evaluate_now(pool: asyncpg.Pool, campaign_ids: list[UUID], *, now: datetime) -> int:
    """Evaluate these campaigns at `now`, waiting for any evaluation of them in progress, and
    clear their marks; returns events published. For callers that need the outcome at once."""
    published = 0
    for campaign_id in sorted(set(campaign_ids)):
        async with pool.acquire() as conn, conn.transaction():
            await repository.lock_campaign(conn, campaign_id)
            mark = await repository.dirty_mark(conn, campaign_id)
            published += await evaluate_campaign(
                conn,
                campaign_id,
                now=now,
                correlation_id=mark.correlation_id if mark is not None else str(uuid4()),
            )
            if mark is not None:
                await repository.clear_dirty(conn, mark)
    return published


async def evaluate_marked(
    pool: asyncpg.Pool,
    *,
    now: Callable[[], datetime],
    limit: int = 100,
    held: repository.HeldNumbers | None = None,
) -> int:
    """One pass over the campaigns marked for evaluation: each is evaluated once at the time of
    its turn, however many events marked it; returns events published.

    A pass takes the marks present when it starts (oldest first); marks made while it runs wait
    for the next pass, so a steady stream of events is evaluated in bursts, never once per
    event. A campaign another replica is evaluating right now is left to that replica (its mark
    stays if it came too late for that evaluation)."""
    async with pool.acquire() as conn:
        marks = await repository.next_dirty(conn, skip=[], limit=limit)
    published = 0
    for mark in marks:
        async with pool.acquire() as conn, conn.transaction():
            if not await repository.try_lock_campaign(conn, mark.campaign_id):
                continue
            published += await evaluate_campaign(
                conn, mark.campaign_id, now=now(), correlation_id=mark.correlation_id, held=held
            )
            await repository.clear_dirty(conn, mark)
    return published


async def sweep(
    pool: asyncpg.Pool, now: datetime, held: repository.HeldNumbers | None = None
) -> int:
    """Time passes without data: re-evaluate every live campaign. One replica at a time."""
    published = 0
    async with pool.acquire() as lock_conn:
        if not await repository.take_sweep_lock(lock_conn):
            return 0
        try:
            campaign_ids = await repository.sweep_campaigns(lock_conn, now)
            for campaign_id in campaign_ids:
                published += await _sweep_one(pool, campaign_id, now, held)
        finally:
            await repository.release_sweep_lock(lock_conn)
    return published


async def _sweep_one(
    pool: asyncpg.Pool, campaign_id: UUID, now: datetime, held: repository.HeldNumbers | None
) -> int:
    correlation_id = str(uuid4())
    async with pool.acquire() as conn, conn.transaction():
        await repository.lock_campaign(conn, campaign_id)
        return await evaluate_campaign(
            conn, campaign_id, now=now, correlation_id=correlation_id, held=held
        )


async def _context(
    conn: Connection, campaign_id: UUID, now: datetime, held: repository.HeldNumbers | None
) -> tuple[UUID, CampaignContext] | None:
    """The campaign's organization and everything its rules read; None when it is gone."""
    stored = await repository.load_numbers(conn, campaign_id, held)
    copy = await repository.load_campaign(conn, campaign_id)
    if copy is not None and copy["deleted_at"] is not None:
        return None
    if stored is None and copy is None:
        return None
    if stored is not None:
        org_id, doc = stored
    else:
        assert copy is not None
        # Registered posts but no numbers yet: the post rules still watch them.
        org_id = copy["org_id"]
        doc = CampaignNumbers(campaign=CampaignFigures(campaign_id=campaign_id), as_of=now)
    if copy is not None:
        # The alerter's own catalog copy may be newer than the aggregator's last document.
        figures = doc.campaign.model_copy(
            update={
                "name": copy["name"],
                "status": copy["status"],
                "start_date": copy["start_date"],
                "end_date": copy["end_date"],
            }
        )
        doc = doc.model_copy(update={"campaign": figures})
    deleted = await repository.deleted_bookings(conn, campaign_id)
    if deleted:
        # The document can still list a booking deleted since: its subjects are gone.
        doc = doc.model_copy(
            update={
                "bookings": [b for b in doc.bookings if b.booking_id not in deleted],
                "posts": [p for p in doc.posts if p.booking_id not in deleted],
            }
        )
    org = await repository.load_organization(conn, org_id)
    thresholds = AlertThresholds()
    if org is not None:
        try:
            thresholds = AlertThresholds.of_settings(org[1])
        except ValidationError:
            # The gateway validates what it stores; a bad copy must not stop every alert.
            log.warning(
                "organization alert thresholds unreadable; defaults used", org_id=str(org_id)
            )
    posts = await repository.load_posts(conn, campaign_id)
    booking_influencers = await repository.booking_influencers(conn, campaign_id)
    influencer_ids = {b.influencer_id for b in doc.bookings if b.influencer_id is not None}
    influencer_ids |= set(booking_influencers.values())
    return org_id, CampaignContext(
        doc=doc,
        thresholds=thresholds,
        org_is_test=org[0] if org is not None else False,
        influencers=await repository.load_influencers(conn, sorted(influencer_ids)),
        posts=posts,
        booking_influencers=booking_influencers,
    )


async def evaluate_campaign(
    conn: Connection,
    campaign_id: UUID,
    *,
    now: datetime,
    correlation_id: str,
    held: repository.HeldNumbers | None = None,
) -> int:
    """Every rule of the campaign at `now`; call with the campaign's lock held. Returns events.
    `held`: the process's decoded documents (repository.HeldNumbers), if it keeps them."""
    context = await _context(conn, campaign_id, now, held)
    if context is None:  # the campaign is gone: nothing left to act on
        return await _resolve_all_open(conn, campaign_id, now=now, correlation_id=correlation_id)
    org_id, ctx = context
    conditions = evaluate_all(ctx, now)
    keys = {c.debounce_key for c in conditions}
    newest = await repository.newest_by_key(conn, sorted(keys))
    events: list[Envelope[Any]] = []
    touches: list[tuple[UUID, str]] = []
    for condition in conditions:
        current = newest.get(condition.debounce_key)
        action = decide(condition, current, now)
        if action is Action.TOUCH and current is not None:
            # Most open alerts simply hold on: one statement touches them all below.
            touches.append((current.id, condition.message))
            continue
        event = await _apply(conn, org_id, condition, action, current.id if current else None, now)
        if event is not None:
            events.append(
                make_event(event, org_id=org_id, producer=PRODUCER, correlation_id=correlation_id)
            )
    await repository.touch_alerts(conn, touches, now=now)
    # Alerts whose subject left (a deleted booking, a removed post) can no longer hold.
    for row in await repository.open_for_campaign(conn, campaign_id, CAMPAIGN_RULES):
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
        await repository.touch_alerts(conn, [(current_id, condition.message)], now=now)
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
            raise NotFound(f"no alert {alert_id}")
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
