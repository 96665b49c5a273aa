"""alerter on real PostgreSQL: raise, repeat, escalate, auto-resolve, manual resolve, the 24 h
re-raise window, out-of-order documents and the sweep, with time under the test's control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from pulse_alerter import evaluation, handlers, repository
from pulse_contracts import make_event
from pulse_contracts.catalog import CampaignDeleted
from pulse_contracts.numbers import BookingNumbers, CampaignFigures, CampaignNumbers
from pulse_runtime.db import create_pool
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration
START = date(2026, 11, 1)
END = date(2026, 11, 10)  # ten days: every day is 10% of the timeline


def at(pct: float) -> datetime:
    """The moment the timeline reaches `pct`."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return start + timedelta(days=10) * (pct / 100)


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("alerter", servers).dsn)
    yield created
    await created.close()


class Campaign:
    def __init__(self) -> None:
        self.org_id = uuid4()
        self.id = uuid4()
        self.booking_id = uuid4()

    def doc(
        self, *, kpi: float | None, booking_kpi: float | None, as_of: datetime, status: str = "live"
    ) -> CampaignNumbers:
        return CampaignNumbers(
            campaign=CampaignFigures(
                campaign_id=self.id,
                name="Winter Drop",
                status=status,
                start_date=START,
                end_date=END,
                kpi_pct=kpi,  # type: ignore[arg-type]
            ),
            bookings=[
                BookingNumbers(
                    booking_id=self.booking_id, influencer_id=uuid4(), kpi_pct=booking_kpi
                )
            ],
            as_of=as_of,
        )


async def _deliver(pool: asyncpg.Pool, c: Campaign, doc: CampaignNumbers, now: datetime) -> int:
    envelope = make_event(doc, org_id=c.org_id, producer="aggregator")
    return await handlers.on_kpi_updated(pool, envelope, now)


async def _alerts(
    pool: asyncpg.Pool, c: Campaign, status: str | None = None
) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return await repository.list_alerts(
            conn,
            org_id=c.org_id,
            status=status,
            type=None,
            severity=None,
            campaign_id=c.id,
            after=None,
            limit=100,
        )


async def _outbox(pool: asyncpg.Pool, c: Campaign) -> list[tuple[str, str, str]]:
    rows = await pool.fetch(
        "SELECT routing_key, convert_from(body, 'UTF8')::jsonb AS body "
        "FROM alerter.outbox ORDER BY id"
    )
    found = []
    for r in rows:
        body = r["body"]
        if body["data"].get("campaign_id") == str(c.id):
            found.append((r["routing_key"], body["data"]["debounce_key"], body["data"]["severity"]))
    return found


def _key(scope: str, scope_id: UUID, m: int) -> str:
    return f"under_kpi:{scope}:{scope_id}:{m}"


async def test_raise_repeat_escalate_and_auto_resolve(pool: asyncpg.Pool) -> None:
    c = Campaign()
    # 49.99% of the timeline: no milestone yet, nothing raised.
    assert await _deliver(pool, c, c.doc(kpi=10, booking_kpi=10, as_of=at(49.99)), at(49.99)) == 0
    # 50%: both under 50 → info for the campaign and the booking.
    assert await _deliver(pool, c, c.doc(kpi=40, booking_kpi=49.99, as_of=at(50)), at(50)) == 2
    open_ = {(a["debounce_key"], a["severity"]) for a in await _alerts(pool, c, "open")}
    assert open_ == {
        (_key("campaign", c.id, 50), "info"),
        (_key("booking", c.booking_id, 50), "info"),
    }
    # A repeat only touches last_seen_at: no new alert, no event.
    assert await _deliver(pool, c, c.doc(kpi=41, booking_kpi=45, as_of=at(60)), at(60)) == 0
    assert len(await _alerts(pool, c)) == 2
    # 80%: the :50 alerts resolve (their milestone passed) and :80 warnings are raised.
    assert await _deliver(pool, c, c.doc(kpi=70, booking_kpi=79.99, as_of=at(80)), at(80)) == 4
    open_ = {(a["debounce_key"], a["severity"]) for a in await _alerts(pool, c, "open")}
    assert open_ == {
        (_key("campaign", c.id, 80), "warning"),
        (_key("booking", c.booking_id, 80), "warning"),
    }
    # The booking recovers (equal to the milestone does not hold): its alert resolves by itself.
    assert await _deliver(pool, c, c.doc(kpi=70, booking_kpi=80, as_of=at(85)), at(85)) == 1
    resolved = [
        a
        for a in await _alerts(pool, c, "resolved")
        if a["debounce_key"] == _key("booking", c.booking_id, 80)
    ]
    assert resolved
    assert resolved[0]["resolved_by"] == "system"
    kinds = [(k, key.split(":")[1], sev) for k, key, sev in await _outbox(pool, c)]
    assert kinds.count(("alert.raised", "campaign", "info")) == 1
    assert kinds.count(("alert.resolved", "booking", "warning")) == 1


async def test_redelivered_kpi_updated_raises_nothing_twice(pool: asyncpg.Pool) -> None:
    c = Campaign()
    envelope = make_event(
        c.doc(kpi=10, booking_kpi=None, as_of=at(96)), org_id=c.org_id, producer="aggregator"
    )
    assert await handlers.on_kpi_updated(pool, envelope, at(96)) == 1
    assert await handlers.on_kpi_updated(pool, envelope, at(96)) == 0
    alerts = await _alerts(pool, c)
    assert [(a["debounce_key"], a["severity"]) for a in alerts] == [
        (_key("campaign", c.id, 95), "critical")
    ]


async def test_an_older_document_arriving_late_does_not_win(pool: asyncpg.Pool) -> None:
    c = Campaign()
    await _deliver(pool, c, c.doc(kpi=90, booking_kpi=90, as_of=at(55)), at(55))
    # The newer document says all is well; an older, worse one arrives afterwards.
    await _deliver(pool, c, c.doc(kpi=10, booking_kpi=10, as_of=at(54)), at(55))
    assert await _alerts(pool, c, "open") == []


async def test_manual_resolve_then_the_24_hour_window(pool: asyncpg.Pool) -> None:
    c = Campaign()
    await _deliver(pool, c, c.doc(kpi=30, booking_kpi=None, as_of=at(50)), at(50))
    (alert,) = await _alerts(pool, c, "open")
    user = uuid4()
    resolved = await evaluation.resolve_by_user(
        pool,
        org_id=c.org_id,
        alert_id=alert["id"],
        user_id=user,
        note="client extended the flight",
        now=at(51),
        correlation_id="r1",
    )
    assert resolved["status"] == "resolved"
    assert resolved["resolved_by"] == "user"
    assert [h["action"] for h in resolved["history"]] == ["raised", "resolved"]
    assert resolved["history"][-1]["note"] == "client extended the flight"
    # Same key, same severity, still under: silent for 24 h after the resolution...
    resolved_at = at(51)
    await _deliver(
        pool,
        c,
        c.doc(kpi=30, booking_kpi=None, as_of=at(55)),
        resolved_at + timedelta(hours=23, minutes=59),
    )
    assert await _alerts(pool, c, "open") == []
    # ...and raised again once 24 h have passed (timeline still in the 50 band).
    await _deliver(
        pool, c, c.doc(kpi=30, booking_kpi=None, as_of=at(62)), resolved_at + timedelta(hours=24)
    )
    assert [a["severity"] for a in await _alerts(pool, c, "open")] == ["info"]
    # Resolving an already resolved alert changes nothing and publishes nothing.
    again = await evaluation.resolve_by_user(
        pool,
        org_id=c.org_id,
        alert_id=alert["id"],
        user_id=user,
        note=None,
        now=at(70),
        correlation_id="r2",
    )
    assert [h["action"] for h in again["history"]] == ["raised", "resolved"]


async def test_another_organizations_alert_is_not_found(pool: asyncpg.Pool) -> None:
    c = Campaign()
    await _deliver(pool, c, c.doc(kpi=30, booking_kpi=None, as_of=at(50)), at(50))
    (alert,) = await _alerts(pool, c, "open")
    from pulse_runtime.errors import ApiError

    with pytest.raises(ApiError) as raised:
        await evaluation.resolve_by_user(
            pool,
            org_id=uuid4(),
            alert_id=alert["id"],
            user_id=None,
            note=None,
            now=at(51),
            correlation_id="x",
        )
    assert raised.value.status == 404


async def test_the_sweep_raises_as_time_passes_and_resolves_for_deleted_campaigns(
    pool: asyncpg.Pool,
) -> None:
    c = Campaign()
    await _deliver(pool, c, c.doc(kpi=60, booking_kpi=None, as_of=at(40)), at(40))
    assert await _alerts(pool, c) == []
    # No new data, but the timeline passes 80% while kpi_pct stays at 60.
    await evaluation.sweep(pool, at(81))
    assert {(a["debounce_key"], a["severity"]) for a in await _alerts(pool, c, "open")} == {
        (_key("campaign", c.id, 80), "warning")
    }
    # The campaign is deleted: its alerts resolve, and the sweep has nothing left to raise.
    deleted = make_event(
        CampaignDeleted(id=c.id, deleted_at=at(82)), org_id=c.org_id, producer="gateway"
    )
    assert await handlers.on_catalog_event(pool, deleted, at(82)) == 1
    await evaluation.sweep(pool, at(99))
    assert await _alerts(pool, c, "open") == []


async def test_campaigns_that_are_not_live_raise_nothing(pool: asyncpg.Pool) -> None:
    c = Campaign()
    await _deliver(pool, c, c.doc(kpi=10, booking_kpi=10, as_of=at(90), status="paused"), at(90))
    assert await _alerts(pool, c) == []
