"""The campaign page's live path: the stream says what changed and its version, never the
document; the numbers fragment shows the announced numbers without asking the alerter or the
aggregator; an alert event's fragment is the one that asks the alerter, and the hashtag
tables' own fragment the one that asks the aggregator.

The gateway runs as a process on the real PostgreSQL and RabbitMQ. Its alerter and aggregator
are a small HTTP server in this test that answers their alert list and hashtags and counts what
it is asked; the other peers are down, so everything the numbers fragment shows comes from the
gateway's own read model."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pulse_contracts import utcnow
from pulse_contracts.alerts import AlertRaised
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers
from pulse_gateway.read_model import version_of
from tests.support.agency import PASSWORD, create_org
from tests.support.catalog import wait_for
from tests.support.scenario import Bus
from tests.support.services import ROOT, ServiceProcess, free_port, peers_down
from tests.support.staff_api import Stream

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"


class CountingAlerter:
    """Answers the gateway's alert list as the alerter would, and a campaign's hashtags as the
    aggregator would, and remembers every request."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.open: list[dict[str, Any]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    async def _alerts(self, request: Request) -> JSONResponse:
        self.asked.append(request.url.path)
        return JSONResponse({"items": self.open, "next_cursor": None})

    async def _hashtags(self, request: Request) -> JSONResponse:
        self.asked.append(request.url.path)
        tag = {"tag": "glowserum", "posts": 1, "views": 1000, "engagement": 50}
        return JSONResponse({"hashtags": [{**tag, "engagement_rate": 5.0}], "mentions": []})

    def of(self, route: str) -> list[str]:
        """The requests made of one route (`alerts`, `hashtags`)."""
        return [path for path in self.asked if path.endswith(f"/{route}")]

    async def _anything(self, request: Request) -> JSONResponse:
        self.asked.append(request.url.path)
        return JSONResponse({"detail": "not in this test"}, status_code=404)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[CountingAlerter]:
        app = Starlette(
            routes=[
                Route("/internal/orgs/{org_id}/alerts", self._alerts),
                Route("/internal/orgs/{org_id}/campaigns/{campaign_id}/hashtags", self._hashtags),
                Route("/{rest:path}", self._anything),
            ]
        )
        server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))
        task = asyncio.create_task(server.serve())

        async def listening() -> bool | None:
            return True if server.started else None

        try:
            await wait_for(listening, 10, "the counting alerter to listen", step=0.02)
            yield self
        finally:
            server.should_exit = True
            await task


def numbers_of(campaign_id: UUID, views: int, computed_ago: timedelta) -> CampaignNumbers:
    today = utcnow().date()
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=campaign_id,
            name="Glow Serum Launch",
            status="live",
            start_date=today - timedelta(days=5),
            end_date=today + timedelta(days=5),
            actual_views=views,
            actual_engagement=views // 20,
            actual_posts=1,
        ),
        as_of=utcnow() - computed_ago,
    )


def shown(fragment: str, attribute: str) -> str:
    found = re.search(rf'id="campaign-numbers"[^>]*\b{attribute}="([^"]*)"', fragment)
    assert found, fragment[:500]
    return found.group(1)


def views_card(fragment: str) -> str:
    found = re.search(r'class="kpi-value" data-kpi="kpi-views">([^<]*)<', fragment)
    assert found, fragment[:2000]
    return found.group(1).strip()


async def test_a_numbers_change_is_announced_small_and_refetched_without_the_alerter(
    service_env: dict[str, str],
) -> None:
    async with CountingAlerter().serving() as alerter:
        env = {
            **peers_down(service_env),
            "PULSE_GATEWAY_ALERTER_URL": alerter.url,
            "PULSE_GATEWAY_AGGREGATOR_URL": alerter.url,
        }
        gateway = ServiceProcess("gateway", env, LOGS)
        await asyncio.to_thread(gateway.start)
        try:
            await _live_campaign_page(gateway, service_env, alerter)
        finally:
            await asyncio.to_thread(gateway.stop)


async def _live_campaign_page(
    gateway: ServiceProcess, service_env: dict[str, str], alerter: CountingAlerter
) -> None:
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    org = await asyncio.to_thread(create_org, service_env, "Northwind Talent", email, test=True)
    org_id = UUID(org["org_id"])
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=15) as api,
        httpx.AsyncClient(base_url=gateway.url, timeout=15) as browser,
        Bus(service_env["PULSE_AMQP_URL"]) as bus,
    ):
        login = await api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        client = (await api.post("/api/clients", json={"name": "Lumière Skincare"})).json()
        today = utcnow().date()
        created = await api.post(
            "/api/campaigns",
            json={
                "client_id": client["id"],
                "name": "Glow Serum Launch",
                "status": "live",
                "start_date": (today - timedelta(days=5)).isoformat(),
                "end_date": (today + timedelta(days=5)).isoformat(),
                "currency": "EUR",
            },
        )
        assert created.status_code == 201, created.text
        campaign_id = UUID(created.json()["id"])
        signed_in = await browser.post(
            "/login", data={"email": email, "password": PASSWORD, "next": "/campaigns"}
        )
        assert signed_in.status_code == 303, signed_in.text

        # The page as the browser opens it: its alerts panel asks the alerter, once, and its
        # hashtag tables the aggregator, once.
        page = await browser.get(f"/campaigns/{campaign_id}")
        assert page.status_code == 200
        assert shown(page.text, "data-version") == "0"  # no numbers yet
        assert alerter.of("alerts") == [f"/internal/orgs/{org_id}/alerts"]
        hashtags_path = f"/internal/orgs/{org_id}/campaigns/{campaign_id}/hashtags"
        assert alerter.of("hashtags") == [hashtags_path]
        assert "#glowserum" in page.text
        alerter.asked.clear()

        stream = Stream(browser)  # with the page's session cookie, as EventSource sends it
        listening = asyncio.create_task(stream.run())
        try:
            await asyncio.wait_for(stream.ready.wait(), 10)
            fragment_headers = {
                "HX-Request": "true",
                "HX-Current-URL": f"{gateway.url}/campaigns/{campaign_id}",
            }
            newer = numbers_of(campaign_id, 1_234_567, computed_ago=timedelta(seconds=1))
            await bus.publish_event(org_id, newer)

            async def announced(type_: str, count: int = 1) -> list[dict[str, Any]] | None:
                found = [e for _, t, e in stream.events if t == type_]
                return found if len(found) >= count else None

            [notice] = await wait_for(lambda: announced("kpi.updated"), 10, "kpi.updated")
            version = version_of(newer.as_of)
            # What changed and its version, not the ~100 KB document.
            assert notice == {
                "type": "numbers",
                "campaign_id": str(campaign_id),
                "version": version,
            }
            assert len(json.dumps(notice)) < 120

            numbers = await browser.get(
                f"/campaigns/{campaign_id}/fragments/numbers", headers=fragment_headers
            )
            assert numbers.status_code == 200
            assert views_card(numbers.text) == "1,234,567"
            assert shown(numbers.text, "data-version") == str(version)
            # The numbers never wait on, nor load, the alerter or the aggregator.
            assert alerter.of("alerts") == []
            assert alerter.of("hashtags") == []
            assert "alerter" not in numbers.text
            assert 'id="campaign-tags"' not in numbers.text

            # The hashtag tables: a fragment of their own, the one that asks the aggregator.
            tags = await browser.get(
                f"/campaigns/{campaign_id}/fragments/tags", headers=fragment_headers
            )
            assert tags.status_code == 200
            assert 'id="campaign-tags"' in tags.text
            assert "#glowserum" in tags.text
            assert alerter.of("hashtags") == [hashtags_path]
            assert alerter.of("alerts") == []
            unknown = await browser.get(
                f"/campaigns/{uuid4()}/fragments/tags", headers=fragment_headers
            )
            assert unknown.status_code == 404
            assert alerter.of("hashtags") == [hashtags_path]  # never asked for another's
            alerter.asked.clear()

            # A late copy of an older document is announced with its older version (the page
            # skips it) and changes nothing the fragment shows.
            older = numbers_of(campaign_id, 1_000_000, computed_ago=timedelta(minutes=5))
            await bus.publish_event(org_id, older)
            notices = await wait_for(lambda: announced("kpi.updated", 2), 10, "the late copy")
            assert notices[1]["version"] == version_of(older.as_of) < version
            again = await browser.get(
                f"/campaigns/{campaign_id}/fragments/numbers", headers=fragment_headers
            )
            assert views_card(again.text) == "1,234,567"
            assert shown(again.text, "data-version") == str(version)
            assert alerter.of("alerts") == alerter.of("hashtags") == []

            # An alert of this campaign: its own notice, and only its fragment asks the alerter.
            raised = AlertRaised(
                alert_id=uuid4(),
                campaign_id=campaign_id,
                type="under_kpi",
                severity="warning",
                message="Glow Serum Launch is at 12% of its committed views",
                debounce_key=f"under_kpi:campaign:{campaign_id}:80",
                raised_at=utcnow(),
            )
            alerter.open = [
                {
                    "id": str(raised.alert_id),
                    "campaign_id": str(campaign_id),
                    "booking_id": None,
                    "post_id": None,
                    "type": raised.type,
                    "scope": "campaign",
                    "severity": raised.severity,
                    "message": raised.message,
                    "debounce_key": raised.debounce_key,
                    "status": "open",
                    "raised_at": raised.raised_at.isoformat(),
                    "last_seen_at": raised.raised_at.isoformat(),
                    "resolved_at": None,
                    "resolved_by": None,
                    "resolved_by_user": None,
                    "resolution_note": None,
                }
            ]
            await bus.publish_event(org_id, raised)
            [alert_notice] = await wait_for(lambda: announced("alert.raised"), 10, "alert.raised")
            assert alert_notice["type"] == "alerts"
            assert alert_notice["campaign_id"] == str(campaign_id)
            assert alert_notice["version"] > 0
            assert set(alert_notice) == {"type", "campaign_id", "version"}
            panel = await browser.get(
                f"/campaigns/{campaign_id}/fragments/alerts", headers=fragment_headers
            )
            assert panel.status_code == 200
            assert "at 12% of its committed views" in panel.text
            assert alerter.of("alerts") == [f"/internal/orgs/{org_id}/alerts"]
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
