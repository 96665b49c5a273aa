"""Alert thresholds per organization and the Alerts Center's filters and bulk resolve, through
the gateway with the alerter running: real processes, PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from pulse_contracts import make_event
from pulse_contracts.alerts import AlertThresholds
from pulse_contracts.numbers import BookingNumbers, CampaignFigures, CampaignNumbers
from tests.support.agency import PASSWORD, create_org
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"


@pytest.fixture(scope="module")
def alerter(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("alerter", service_env, LOGS)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def gateway(service_env: dict[str, str], alerter: ServiceProcess) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        "gateway", {**service_env, "PULSE_GATEWAY_ALERTER_URL": alerter.url}, LOGS
    )
    proc.start()
    yield proc
    proc.stop()


class Agency:
    def __init__(self, gateway: ServiceProcess, service_env: dict[str, str]) -> None:
        self.email = f"owner-{uuid4().hex[:8]}@thresholds.agency"
        self.ids = create_org(service_env, "Threshold Talent", self.email, test=True)
        self.url = gateway.url

    async def login(self, email: str | None = None) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.url, timeout=15)
        response = await client.post(
            "/api/auth/login", json={"email": email or self.email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        self.org_id = UUID((await client.get("/api/me")).json()["org_id"])
        return client

    async def person(self, owner: httpx.AsyncClient, role: str) -> httpx.AsyncClient:
        email = f"{role}-{uuid4().hex[:8]}@thresholds.agency"
        created = await owner.post(
            "/api/users", json={"email": email, "role": role, "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        return await self.login(email)


@pytest.fixture
async def callers(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> AsyncIterator[dict[str, Any]]:
    agency = Agency(gateway, service_env)
    owner = await agency.login()
    found: dict[str, Any] = {
        "agency": agency,
        "org_id": agency.org_id,
        "owner": owner,
        "manager": await agency.person(owner, "manager"),
        "analyst": await agency.person(owner, "analyst"),
    }
    stranger = Agency(gateway, service_env)
    found["stranger"] = await stranger.login()
    yield found
    for client in found.values():
        if isinstance(client, httpx.AsyncClient):
            await client.aclose()


class Bus:
    """An exclusive queue on pulse.events bound to `binding`, and a publisher."""

    def __init__(self, connection: Any, channel: Any, queue: Any) -> None:
        self.connection, self.channel, self.queue = connection, channel, queue
        self.events: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, amqp_url: str, binding: str) -> Bus:
        connection = await aio_pika.connect(amqp_url)
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "pulse.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key=binding)
        return cls(connection, channel, queue)

    async def wait_for(
        self, wanted: Callable[[list[dict[str, Any]]], bool], timeout: float = 15
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while not wanted(self.events) and time.monotonic() < deadline:
            message = await self.queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            self.events.append(json.loads(message.body))
        return self.events

    async def publish(self, org_id: UUID, data: Any) -> None:
        envelope = make_event(data, org_id=org_id, producer="test")
        exchange = await self.channel.get_exchange("pulse.events")
        await exchange.publish(
            aio_pika.Message(
                envelope.model_dump_json().encode(),
                message_id=str(envelope.event_id),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=envelope.type,
        )


@pytest.fixture
async def bus(servers: Servers) -> AsyncIterator[Bus]:
    opened = await Bus.open(servers.amqp_url, "#")
    yield opened
    await opened.connection.close()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


# --- thresholds ----------------------------------------------------------------------------


async def test_thresholds_start_at_the_defaults_and_change_in_part(
    callers: dict[str, Any], bus: Bus, admin_db: asyncpg.Connection
) -> None:
    owner, manager, analyst = callers["owner"], callers["manager"], callers["analyst"]
    path = "/api/settings/alert-thresholds"
    defaults = AlertThresholds().model_dump(mode="json")
    first = await analyst.get(path)
    assert first.status_code == 200, first.text
    assert first.json() == defaults
    assert first.json()["under_kpi_milestones"] == [50, 80, 95]
    assert first.json()["engagement_drop_min_views"] == 1000

    changed = await manager.put(
        path, json={"viral_min_views": 25_000, "under_kpi_milestones": [40, 70, 90]}
    )
    assert changed.status_code == 200, changed.text
    expected = {**defaults, "viral_min_views": 25_000, "under_kpi_milestones": [40, 70, 90]}
    assert changed.json() == expected
    assert (await owner.get(path)).json() == expected

    # The alerter (and anyone else) hears the organization's whole settings.
    org_id = str(callers["org_id"])

    def upserted(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            e
            for e in events
            if e["type"] == "catalog.organization.upserted" and e["data"]["id"] == org_id
        ]

    events = upserted(await bus.wait_for(lambda evs: bool(upserted(evs))))
    assert events[-1]["data"]["settings"]["alert_thresholds"] == {
        "viral_min_views": 25_000,
        "under_kpi_milestones": [40, 70, 90],
    }

    # A second change keeps the first; null puts a threshold back to its default.
    again = await owner.put(path, json={"engagement_drop_factor": 0.5, "viral_min_views": None})
    assert again.status_code == 200, again.text
    assert again.json() == {**expected, "engagement_drop_factor": 0.5, "viral_min_views": 10_000}
    events = upserted(await bus.wait_for(lambda evs: len(upserted(evs)) >= 2))
    assert events[-1]["data"]["settings"]["alert_thresholds"] == {
        "under_kpi_milestones": [40, 70, 90],
        "engagement_drop_factor": 0.5,
    }

    audit = await admin_db.fetch(
        "SELECT actor, action FROM catalog.audit_log WHERE entity = 'organization' "
        "AND entity_id = $1 AND action = 'update' ORDER BY at",
        callers["org_id"],
    )
    assert len(audit) == 2

    # Other organizations keep their own (default) thresholds.
    assert (await callers["stranger"].get(path)).json() == defaults


async def test_bad_thresholds_are_refused_naming_the_field(callers: dict[str, Any]) -> None:
    manager, path = callers["manager"], "/api/settings/alert-thresholds"
    before = (await manager.get(path)).json()
    for body, field in (
        ({"engagement_drop_factor": 1.5}, "body.engagement_drop_factor"),
        ({"engagement_drop_min_views": -1}, "body.engagement_drop_min_views"),
        ({"deadline_critical_days": 5}, "body.deadline_critical_days"),
        ({"under_kpi_milestones": [90, 80, 95]}, "body.under_kpi_milestones"),
        ({"stale_interval_multiple": "often"}, "body.stale_interval_multiple"),
        ({"sentiment_share": 30}, "body.sentiment_share"),
    ):
        refused = await manager.put(path, json=body)
        assert refused.status_code == 422, (body, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "validation_error"
        assert field in {d["path"] for d in error["details"]}, (body, error)
    assert (await manager.get(path)).json() == before

    analyst = await callers["analyst"].put(path, json={"viral_min_views": 1})
    assert analyst.status_code == 403


# --- the Alerts Center ---------------------------------------------------------------------


def _numbers(campaign_id: UUID, bookings: int) -> CampaignNumbers:
    """A live campaign nine tenths through its timeline at 10% of its KPIs: under_kpi for the
    campaign and each booking (design/kpis.md)."""
    today = datetime.now(UTC).date()
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=campaign_id,
            name="Winter Drop",
            status="live",
            start_date=today - timedelta(days=9),
            end_date=today,
            kpi_pct=10,
        ),
        bookings=[
            BookingNumbers(booking_id=uuid4(), influencer_id=uuid4(), kpi_pct=10)
            for _ in range(bookings)
        ],
        as_of=datetime.now(UTC),
    )


async def _open_alerts(
    client: httpx.AsyncClient, campaign_id: UUID, **filters: str
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/alerts", params={"campaign_id": str(campaign_id), "status": "open", **filters}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_alerts_center_filters_pages_and_resolves_in_bulk(
    callers: dict[str, Any], bus: Bus
) -> None:
    owner, analyst, stranger = callers["owner"], callers["analyst"], callers["stranger"]
    org_id, campaign_id, quiet_campaign = callers["org_id"], uuid4(), uuid4()
    await bus.publish(org_id, _numbers(campaign_id, bookings=3))
    await bus.publish(org_id, _numbers(quiet_campaign, bookings=1))

    async def four_under_kpi() -> list[dict[str, Any]] | None:
        found = await _open_alerts(owner, campaign_id, type="under_kpi")
        return found if len(found) >= 4 else None

    alerts = await eventually(four_under_kpi)
    ids = [a["id"] for a in alerts]
    assert {a["campaign_id"] for a in alerts} == {str(campaign_id)}
    severity = alerts[0]["severity"]
    assert all(a["severity"] == severity for a in alerts)
    other = "info" if severity != "info" else "critical"
    assert await _open_alerts(owner, campaign_id, type="under_kpi", severity=other) == []
    assert await _open_alerts(owner, campaign_id, type="viral") == []

    # Cursor pages walk every alert once.
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"campaign_id": str(campaign_id), "type": "under_kpi", "limit": "2"}
        page = (
            await owner.get(
                "/api/alerts", params={**params, **({"cursor": cursor} if cursor else {})}
            )
        ).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)

    # All or nothing: one unknown id (or another organization's) and nothing is resolved.
    unknown = str(uuid4())
    refused = await analyst.post("/api/alerts/resolve", json={"ids": [*ids, unknown]})
    assert refused.status_code == 404, refused.text
    assert [d["id"] for d in refused.json()["error"]["details"]] == [unknown]
    from_stranger = await stranger.post("/api/alerts/resolve", json={"ids": ids[:1]})
    assert from_stranger.status_code == 404
    assert len(await _open_alerts(owner, campaign_id, type="under_kpi")) == len(ids)
    too_many = await analyst.post("/api/alerts/resolve", json={"ids": [unknown] * 201})
    assert too_many.status_code == 422

    done = await analyst.post(
        "/api/alerts/resolve", json={"ids": ids, "note": "client extended the campaign"}
    )
    assert done.status_code == 200, done.text
    items = done.json()["items"]
    assert [i["id"] for i in items] == ids
    assert {i["result"] for i in items} == {"resolved"}
    assert all(i["alert"]["resolution_note"] == "client extended the campaign" for i in items)
    assert await _open_alerts(owner, campaign_id) == []
    # The quiet campaign's alerts were not touched.
    assert await _open_alerts(owner, quiet_campaign)

    detail = (await owner.get(f"/api/alerts/{ids[0]}")).json()
    assert detail["status"] == "resolved"
    assert detail["resolved_by"] == "user"
    assert detail["history"][-1]["action"] == "resolved"
    assert detail["history"][-1]["note"] == "client extended the campaign"

    def resolutions(events: list[dict[str, Any]]) -> set[str]:
        return {e["data"]["alert_id"] for e in events if e["type"] == "alert.resolved"}

    assert resolutions(await bus.wait_for(lambda evs: set(ids) <= resolutions(evs))) >= set(ids)

    twice = await owner.post("/api/alerts/resolve", json={"ids": ids[:2]})
    assert {i["result"] for i in twice.json()["items"]} == {"already_resolved"}
    listed = await owner.get(
        "/api/alerts", params={"status": "resolved", "campaign_id": str(campaign_id)}
    )
    assert sorted(a["id"] for a in listed.json()["items"]) == sorted(ids)
