"""alerter use cases: keep reference copies, evaluate a campaign's rules, apply the debounce
life cycle, resolve."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, get_args
from uuid import UUID, uuid4

import asyncpg
from pydantic import ValidationError

from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.alerts import AlertRaised, AlertResolved, AlertThresholds
from pulse_contracts.catalog import (
    BookingDeleted,
    BookingUpserted,
    CampaignDeleted,
    CampaignUpserted,
    InfluencerUpserted,
    OrganizationUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers
from pulse_contracts.posts import PostCommentsScored, PostPulled, PostPullFailed
from pulse_contracts.values import AlertType
from pulse_runtime.db import Connection
from pulse_runtime.errors import ApiError
from pulse_runtime.inbox import first_delivery
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import repository
from .domain import Action, Condition, decide
from .repository import SCHEMA
from .rules import CampaignContext, evaluate_all

PRODUCER = "alerter"
# Every rule is evaluated per campaign, so every type's leftovers resolve with the campaign.
CAMPAIGN_RULES: tuple[AlertType, ...] = get_args(AlertType)
SWEEP_LOCK = 0x5055_4C53  # "PULS": one sweeper across replicas

CATALOG_TYPES = (
    OrganizationUpserted,
    InfluencerUpserted,
    CampaignUpserted,
    CampaignDeleted,
    BookingUpserted,
    BookingDeleted,
    PostRegistered,
    PostRemoved,
)

log = get_logger(__name__)


async def note_kpi_updated(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> bool:
    """Keep the newest document and mark its campaign for evaluation; False for a repeat."""
    doc = envelope.data
    assert isinstance(doc, CampaignNumbers)
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return False
        await repository.save_numbers(conn, envelope.org_id, doc)
        await repository.mark_dirty(conn, [doc.campaign.campaign_id], envelope.correlation_id)
    return True


async def on_kpi_updated(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> int:
    """note_kpi_updated, then the campaign's rules at `now`; returns events published."""
    if not await note_kpi_updated(pool, envelope):
        return 0
    assert isinstance(envelope.data, CampaignNumbers)
    return await evaluate_now(pool, [envelope.data.campaign.campaign_id], now=now)


async def note_catalog_event(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> UUID | None:
    """Keep the copies the rules read; returns the campaign whose subjects changed (marked for
    evaluation), if any."""
    data = envelope.data
    if not isinstance(data, CATALOG_TYPES):
        return None
    org_id = envelope.org_id
    campaign_id: UUID | None = None
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return None
        if isinstance(data, OrganizationUpserted):
            # New thresholds take effect at the next event or sweep (within 5 minutes).
            await repository.upsert_organization(
                conn,
                data.id,
                is_test=data.is_test,
                settings=data.settings,
                updated_at=data.updated_at,
            )
        elif isinstance(data, InfluencerUpserted):
            await repository.upsert_influencer(
                conn,
                data.id,
                org_id=org_id,
                display_name=data.display_name,
                handles=[h.model_dump(mode="json") for h in data.handles],
                updated_at=data.updated_at,
            )
        elif isinstance(data, CampaignUpserted):
            campaign_id = data.id
            await repository.upsert_campaign(
                conn,
                campaign_id=data.id,
                org_id=org_id,
                name=data.name,
                status=data.status,
                start_date=data.start_date,
                end_date=data.end_date,
                updated_at=data.updated_at,
            )
        elif isinstance(data, CampaignDeleted):
            campaign_id = data.id
            await repository.delete_numbers(conn, campaign_id)
            await repository.delete_campaign(
                conn, campaign_id, org_id=org_id, deleted_at=data.deleted_at
            )
        elif isinstance(data, BookingUpserted):
            await repository.upsert_booking(
                conn,
                data.id,
                campaign_id=data.campaign_id,
                influencer_id=data.influencer_id,
                updated_at=data.updated_at,
            )
        elif isinstance(data, BookingDeleted):
            campaign_id = data.campaign_id
            await repository.delete_booking(
                conn, data.id, campaign_id=campaign_id, deleted_at=data.deleted_at
            )
        elif isinstance(data, PostRegistered):
            campaign_id = data.campaign_id
            await repository.register_post(
                conn,
                data.id,
                org_id=org_id,
                campaign_id=campaign_id,
                booking_id=data.booking_id,
                platform=data.platform,
                registered_at=data.registered_at,
            )
        elif isinstance(data, PostRemoved):
            campaign_id = data.campaign_id
            await repository.remove_post(
                conn,
                data.id,
                org_id=org_id,
                campaign_id=campaign_id,
                booking_id=data.booking_id,
                removed_at=data.removed_at,
            )
        if campaign_id is not None:
            await repository.mark_dirty(conn, [campaign_id], envelope.correlation_id)
    return campaign_id


async def on_catalog_event(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> int:
    """note_catalog_event, then the changed campaign's rules at `now`; returns events published."""
    campaign_id = await note_catalog_event(pool, envelope)
    if campaign_id is None:
        return 0
    return await evaluate_now(pool, [campaign_id], now=now)


def _post_event_campaigns(data: EventData) -> list[UUID]:
    if isinstance(data, PostPulled):
        return sorted({s.campaign_id for s in data.samples})
    if isinstance(data, PostPullFailed | PostCommentsScored):
        return [data.campaign_id]
    return []


async def note_post_event(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> list[UUID]:
    """post.pulled / post.pull_failed / post.comments_scored: note what they tell about each
    post; returns the campaigns marked for evaluation (none for a repeat)."""
    data = envelope.data
    org_id = envelope.org_id
    campaign_ids = _post_event_campaigns(data)
    if not campaign_ids:
        return []
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return []
        if isinstance(data, PostPulled):
            # One statement per batch, not one per sample: a batch holds up to 1000 samples.
            await repository.posts_data(conn, org_id, data.samples)
            await repository.posts_facts(conn, data.posts)
        elif isinstance(data, PostPullFailed):
            await repository.post_failures(
                conn,
                data.post_id,
                org_id=org_id,
                campaign_id=data.campaign_id,
                booking_id=data.booking_id,
                failures=data.consecutive_failures,
                at=envelope.occurred_at,
            )
        elif isinstance(data, PostCommentsScored):
            await repository.post_comments(
                conn,
                data.post_id,
                org_id=org_id,
                campaign_id=data.campaign_id,
                booking_id=data.booking_id,
                platform=data.platform,
                analysed=data.analysed,
                negative=data.negative,
                scored_at=data.scored_at,
            )
        await repository.mark_dirty(conn, campaign_ids, envelope.correlation_id)
    return campaign_ids


async def on_post_event(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> int:
    """note_post_event, then the marked campaigns' rules at `now`; returns events published."""
    campaign_ids = await note_post_event(pool, envelope)
    return await evaluate_now(pool, campaign_ids, now=now)


# --- evaluation -------------------------------------------------------------------------------


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
    pool: asyncpg.Pool, *, now: Callable[[], datetime], limit: int = 100
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
                conn, mark.campaign_id, now=now(), correlation_id=mark.correlation_id
            )
            await repository.clear_dirty(conn, mark)
    return published


async def sweep(pool: asyncpg.Pool, now: datetime) -> int:
    """Time passes without data: re-evaluate every live campaign. One replica at a time."""
    published = 0
    async with pool.acquire() as lock_conn:
        if not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK):
            return 0
        try:
            campaign_ids = await repository.sweep_campaigns(lock_conn, now)
            for campaign_id in campaign_ids:
                published += await _sweep_one(pool, campaign_id, now)
        finally:
            await lock_conn.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK)
    return published


async def _sweep_one(pool: asyncpg.Pool, campaign_id: UUID, now: datetime) -> int:
    correlation_id = str(uuid4())
    async with pool.acquire() as conn, conn.transaction():
        await repository.lock_campaign(conn, campaign_id)
        return await evaluate_campaign(conn, campaign_id, now=now, correlation_id=correlation_id)


async def _context(
    conn: Connection, campaign_id: UUID, now: datetime
) -> tuple[UUID, CampaignContext] | None:
    """The campaign's organization and everything its rules read; None when it is gone."""
    stored = await repository.load_numbers(conn, campaign_id)
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
) -> int:
    """Every rule of the campaign at `now`; call with the campaign's lock held. Returns events."""
    context = await _context(conn, campaign_id, now)
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
