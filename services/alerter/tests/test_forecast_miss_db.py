"""forecast_miss (docs/insights.md) on real PostgreSQL: raised from kpi.updated while enough of
the timeline remains, held through the debounce, resolved when the forecast recovers, with the
organization's thresholds and the alert's history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from pulse_alerter import handlers, repository
from pulse_alerter.messages import NARROW
from pulse_contracts import EventData, make_event
from pulse_contracts.catalog import (
    BookingUpserted,
    CampaignDeleted,
    CampaignUpserted,
    InfluencerUpserted,
    OrganizationUpserted,
)
from pulse_contracts.forecast import DeliveryForecast
from pulse_contracts.numbers import BookingNumbers, CampaignFigures, CampaignNumbers
from pulse_runtime.db import create_pool
from pulse_runtime.messaging import parse_envelope
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration

START, END = date(2027, 5, 1), date(2027, 5, 10)  # ten days: one day is 10 % of the timeline
DAY_3 = datetime(2027, 5, 3, 12, tzinfo=UTC)  # 25 % of the timeline gone
H, D = timedelta(hours=1), timedelta(days=1)


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("alerter", servers).dsn)
    yield created
    await created.close()


@pytest.fixture(autouse=True, params=["contract", "wire"])
def decoded(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: the handlers given the contract's whole models, and given what the
    subscribers decode from the wire (pulse_alerter.messages): the outcomes must not differ."""
    monkeypatch.setattr(Agency, "from_the_wire", request.param == "wire")


class Agency:
    """One live campaign with one booking of Mia Chen committed to 100,000 views."""

    from_the_wire = False

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.org_id, self.campaign_id, self.booking_id = uuid4(), uuid4(), uuid4()
        self.influencer_id = uuid4()

    async def send(self, data: EventData, now: datetime) -> int:
        envelope = make_event(data, org_id=self.org_id, producer="test", occurred_at=now)
        if self.from_the_wire:
            envelope = parse_envelope(envelope.model_dump_json().encode(), envelope.type, NARROW)
        if envelope.type == "kpi.updated":
            return await handlers.on_kpi_updated(self.pool, envelope, now)
        return await handlers.on_catalog_event(self.pool, envelope, now)

    async def catalog(self, settings: dict[str, Any] | None = None) -> None:
        stamp = DAY_3 - 2 * D
        await self.send(
            OrganizationUpserted(
                id=self.org_id, name="Northwind", settings=settings or {}, updated_at=stamp
            ),
            stamp,
        )
        await self.send(
            InfluencerUpserted(id=self.influencer_id, display_name="Mia Chen", updated_at=stamp),
            stamp,
        )
        await self.send(
            CampaignUpserted(
                id=self.campaign_id,
                client_id=uuid4(),
                name="Winter Drop",
                status="live",
                start_date=START,
                end_date=END,
                updated_at=stamp,
            ),
            stamp,
        )
        await self.send(
            BookingUpserted(
                id=self.booking_id,
                campaign_id=self.campaign_id,
                influencer_id=self.influencer_id,
                fee_cents=50_000,
                committed_views=100_000,
                updated_at=stamp,
            ),
            stamp,
        )

    def doc(self, as_of: datetime, *, high: int, status: str = "projected") -> CampaignNumbers:
        forecast = DeliveryForecast(
            status=status,  # type: ignore[arg-type]
            views=high * 3 // 4,
            views_low=high // 2,
            views_high=high,
            engagement=0,
            engagement_low=0,
            engagement_high=0,
            posts=1,
            posts_low=1,
            posts_high=1,
        )
        return CampaignNumbers(
            campaign=CampaignFigures(
                campaign_id=self.campaign_id,
                name="Winter Drop",
                status="live",
                start_date=START,
                end_date=END,
                committed_views=100_000,
                forecast=forecast,
            ),
            bookings=[
                BookingNumbers(
                    booking_id=self.booking_id,
                    influencer_id=self.influencer_id,
                    committed_views=100_000,
                    actual_views=high // 2,
                    actual_posts=1,
                    forecast=forecast,
                )
            ],
            as_of=as_of,
        )

    async def finish(self, now: datetime) -> None:
        """Delete the campaign: its alerts resolve, and no later sweep of the shared database
        (other test modules sweep every live campaign at their own clocks) meets it again."""
        await self.send(CampaignDeleted(id=self.campaign_id, deleted_at=now), now)
        assert await self.open_() == {}

    async def open_(self) -> dict[str, str]:
        async with self.pool.acquire() as conn:
            rows = await repository.list_alerts(
                conn,
                org_id=self.org_id,
                status="open",
                type="forecast_miss",
                severity=None,
                campaign_id=self.campaign_id,
                after=None,
                limit=100,
            )
        return {r["debounce_key"]: r["message"] for r in rows}


async def test_raised_below_the_commitment_and_resolved_when_the_forecast_recovers(
    pool: asyncpg.Pool,
) -> None:
    a = Agency(pool)
    await a.catalog()
    booking_key = f"forecast_miss:booking:{a.booking_id}"
    campaign_key = f"forecast_miss:campaign:{a.campaign_id}"
    # The high end reaches the commitment exactly: nothing to warn about.
    await a.send(a.doc(DAY_3, high=100_000), DAY_3)
    assert await a.open_() == {}
    # One view short at the high end, 75 % of the timeline left: raised for both scopes.
    await a.send(a.doc(DAY_3 + H, high=99_999), DAY_3 + H)
    opened = await a.open_()
    assert set(opened) == {booking_key, campaign_key}
    assert opened[booking_key] == (
        'Mia Chen in "Winter Drop" is forecast to land short by the end date: '
        "at most 99,999 views of 100,000 committed"
    )
    # Still short later on: the same alert holds (debounce), no second one.
    await a.send(a.doc(DAY_3 + 2 * D, high=60_000), DAY_3 + 2 * D)
    assert set(await a.open_()) == {booking_key, campaign_key}
    # The forecast recovers: the system resolves it, and the history says so.
    await a.send(a.doc(DAY_3 + 3 * D, high=130_000), DAY_3 + 3 * D)
    assert await a.open_() == {}
    async with pool.acquire() as conn:
        rows = await repository.list_alerts(
            conn,
            org_id=a.org_id,
            status="resolved",
            type="forecast_miss",
            severity=None,
            campaign_id=a.campaign_id,
            after=None,
            limit=10,
        )
        assert {r["debounce_key"] for r in rows} == {booking_key, campaign_key}
        found = await repository.get_alert(conn, org_id=a.org_id, alert_id=rows[0]["id"])
    assert found is not None
    assert found["resolved_by"] == "system"
    assert [h["action"] for h in found["history"]] == ["raised", "resolved"]
    await a.finish(DAY_3 + 3 * D + H)


async def test_not_raised_once_less_than_the_set_share_of_the_timeline_remains(
    pool: asyncpg.Pool,
) -> None:
    a = Agency(pool)
    await a.catalog()
    # 8 days gone of 10 (80 %): only 20 % remains, under the default 30 %.
    late = datetime(2027, 5, 9, 0, tzinfo=UTC)
    await a.send(a.doc(late, high=10_000), late)
    assert await a.open_() == {}
    await a.finish(late + H)
    # Not enough data yet is never a miss.
    b = Agency(pool)
    await b.catalog()
    await b.send(b.doc(DAY_3, high=10_000, status="not_enough_data"), DAY_3)
    assert await b.open_() == {}
    await b.finish(DAY_3 + H)


async def test_an_open_alert_holds_past_the_raising_window_until_it_recovers(
    pool: asyncpg.Pool,
) -> None:
    a = Agency(pool)
    await a.catalog()
    await a.send(a.doc(DAY_3, high=50_000), DAY_3)
    assert len(await a.open_()) == 2
    # 90 % of the timeline gone, still short: it stays open rather than resolving (and is
    # not raised afresh: the same alerts, touched).
    before = await a.open_()
    late = datetime(2027, 5, 10, 0, tzinfo=UTC)
    await a.send(a.doc(late, high=40_000), late)
    assert set(await a.open_()) == set(before)
    await a.finish(late + H)


async def test_the_organizations_thresholds(pool: asyncpg.Pool) -> None:
    # Raise earlier in the timeline only (50 % must remain) and only 10 % below the commitment.
    a = Agency(pool)
    await a.catalog(
        {
            "alert_thresholds": {
                "forecast_miss_min_remaining_pct": 50,
                "forecast_miss_margin_pct": 90,
            }
        }
    )
    await a.send(a.doc(DAY_3, high=95_000), DAY_3)  # short, but within the 10 % margin
    assert await a.open_() == {}
    await a.send(a.doc(DAY_3 + H, high=89_000), DAY_3 + H)
    assert len(await a.open_()) == 2
    await a.finish(DAY_3 + 2 * H)
    b = Agency(pool)
    await b.catalog({"alert_thresholds": {"forecast_miss_min_remaining_pct": 50}})
    day_6 = datetime(2027, 5, 6, 12, tzinfo=UTC)  # 45 % remains
    await b.send(b.doc(day_6, high=10_000), day_6)
    assert await b.open_() == {}
    await b.finish(day_6 + H)
