"""Staff create, list and revoke share links through the gateway; a client opens them without
signing in. Gateway and share run as processes; the gateway's own catalog events feed share."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers, PlatformSplit
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
PASSWORD = "correct horse battery staple"
BUDGET, SPEND, CPM = 918_273_645_50, 827_364_591_20, 71_625_348.917


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="module")
def services(service_env: dict[str, str], mail_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    procs: dict[str, ServiceProcess] = {}
    try:
        procs["share"] = ServiceProcess("share", service_env, LOGS)
        procs["share"].start()
        env = {
            **service_env,
            "PULSE_GATEWAY_SHARE_URL": procs["share"].url,
            "PULSE_GATEWAY_SHARE_PUBLIC_URL": procs["share"].url,
            "PULSE_GATEWAY_MAIL_DIR": str(mail_dir),
        }
        procs["gateway"] = ServiceProcess("gateway", env, LOGS)
        procs["gateway"].start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


def _cli(service_env: dict[str, str], *args: str) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pulse_gateway.cli", "admin", *args],
        env=service_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, str] = json.loads(done.stdout)
    return result


async def _agency(
    gateway: ServiceProcess, service_env: dict[str, str], role: str = "owner"
) -> tuple[httpx.AsyncClient, dict[str, str]]:
    email = f"{role}-{uuid4().hex[:8]}@northwind.agency"
    ids = await asyncio.to_thread(
        _cli,
        service_env,
        "create-org",
        "Northwind Talent",
        "--owner-email",
        email,
        "--owner-password",
        PASSWORD,
    )
    return await _login(gateway, email), ids


async def _login(gateway: ServiceProcess, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=gateway.url, timeout=15)
    r = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


async def _ok(response: Any) -> Any:
    r: httpx.Response = await response
    assert r.status_code < 300, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json() if r.content else None


@pytest.fixture(scope="module")
async def db(servers: Servers) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(servers.database_url)
    yield conn
    await conn.close()


async def test_staff_share_a_campaign_and_the_client_opens_it_anonymously(
    services: dict[str, ServiceProcess],
    service_env: dict[str, str],
    servers: Servers,
    db: asyncpg.Connection,
) -> None:
    gateway, share = services["gateway"], services["share"]
    staff, ids = await _agency(gateway, service_env)
    org_id = UUID(ids["org_id"])
    client = await _ok(
        staff.post("/api/clients", json={"name": "Lumière", "brand_color": "#C2185B"})
    )
    today = utcnow().date()
    campaign = await _ok(
        staff.post(
            "/api/campaigns",
            json={
                "client_id": client["id"],
                "name": "Holiday Gift Sets",
                "status": "live",
                "start_date": (today - timedelta(days=5)).isoformat(),
                "end_date": (today + timedelta(days=5)).isoformat(),
                "budget_cents": BUDGET,
                "currency": "EUR",
                "committed_views": 3_000_000,
            },
        )
    )
    campaign_id = UUID(campaign["id"])

    # The number document, as the aggregator would publish it (with money share must drop).
    async with Bus(servers.amqp_url) as bus:
        await bus.publish_event(
            org_id,
            CampaignNumbers(
                campaign=CampaignFigures(
                    campaign_id=campaign_id,
                    client_id=UUID(client["id"]),
                    name="Holiday Gift Sets",
                    status="live",
                    budget_cents=BUDGET,
                    spend_cents=SPEND,
                    cpm=CPM,
                    committed_views=3_000_000,
                    actual_views=2_345_678,
                    actual_engagement=123_456,
                    views_pct=78.19,
                ),
                platforms=[PlatformSplit(platform="tiktok", views=2_345_678, engagement=123_456)],
                as_of=utcnow(),
            ),
        )
    deadline = time.monotonic() + 15
    while True:  # the gateway's catalog events and the document reach share
        row = await db.fetchrow(
            "SELECT client_name, actual_views FROM share.campaigns WHERE campaign_id = $1",
            campaign_id,
        )
        if row and row["client_name"] == "Lumière" and row["actual_views"] == 2_345_678:
            break
        assert time.monotonic() < deadline, "share never received the campaign"
        await asyncio.sleep(0.05)

    expires = (utcnow() + timedelta(days=30)).isoformat()
    link = await _ok(
        staff.post(f"/api/campaigns/{campaign_id}/share-links", json={"expires_at": expires})
    )
    assert set(link) >= {"id", "url", "token"}
    assert link["url"] == f"{share.url}/share/{link['token']}"
    assert link["state"] == "active"

    async with httpx.AsyncClient(timeout=10) as visitor:  # no credentials at all
        page = await visitor.get(link["url"])
        assert page.status_code == 200
        assert "Holiday Gift Sets" in page.text
        assert "Lumière" in page.text
        assert "2,345,678" in page.text
        body = (await visitor.get(f"{share.url}/api/share/{link['token']}")).text
        for secret in (str(BUDGET), f"{BUDGET:,}", f"{BUDGET / 100:,.2f}", str(SPEND), repr(CPM)):
            assert secret not in page.text
            assert secret not in body
        for internal_id in (ids["org_id"], ids["user_id"], client["id"], str(campaign_id)):
            assert internal_id not in page.text
            assert internal_id not in body

    listed = await _ok(staff.get(f"/api/campaigns/{campaign_id}/share-links"))
    (item,) = listed["items"]
    assert (item["id"], item["view_count"], item["state"]) == (link["id"], 2, "active")
    assert item["last_viewed_at"] is not None
    assert "token" not in item
    assert "url" not in item
    # The Share links screen lists it the same way: state, views and forecast opt-in, no token.
    email = await db.fetchval("SELECT email FROM catalog.users WHERE id = $1", UUID(ids["user_id"]))
    async with httpx.AsyncClient(base_url=gateway.url, timeout=15) as browser:
        signed_in = await browser.post(
            "/login", data={"email": email, "password": PASSWORD, "next": "/campaigns"}
        )
        assert signed_in.status_code == 303, signed_in.text
        screen = await browser.get(f"/campaigns/{campaign_id}/share-links")
    assert screen.status_code == 200, screen.text
    assert f'data-link-id="{link["id"]}" data-state="active"' in screen.text
    assert link["token"] not in screen.text
    audit = await db.fetch(
        "SELECT action FROM catalog.audit_log WHERE entity = 'share_link' AND entity_id = $1",
        UUID(link["id"]),
    )
    assert [r["action"] for r in audit] == ["create"]

    # Another agency sees neither the campaign nor the link.
    rival, _ = await _agency(gateway, service_env)
    r = await rival.post(f"/api/campaigns/{campaign_id}/share-links", json={})
    assert r.status_code == 404
    assert (await rival.get(f"/api/campaigns/{campaign_id}/share-links")).status_code == 404
    assert (await rival.delete(f"/api/share-links/{link['id']}")).status_code == 404
    assert (await staff.post(f"/api/campaigns/{uuid4()}/share-links", json={})).status_code == 404

    # Analysts may look but not share.
    analyst_email = f"analyst-{uuid4().hex[:8]}@northwind.agency"
    await asyncio.to_thread(
        _cli,
        service_env,
        "create-user",
        "--org-id",
        ids["org_id"],
        "--email",
        analyst_email,
        "--role",
        "analyst",
        "--password",
        PASSWORD,
    )
    analyst = await _login(gateway, analyst_email)
    assert (
        await analyst.post(f"/api/campaigns/{campaign_id}/share-links", json={})
    ).status_code == 403
    assert (await analyst.delete(f"/api/share-links/{link['id']}")).status_code == 403
    assert (await analyst.get(f"/api/campaigns/{campaign_id}/share-links")).status_code == 200
    # Anonymous callers get nothing from the staff routes.
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as stranger:
        assert (
            await stranger.post(f"/api/campaigns/{campaign_id}/share-links", json={})
        ).status_code == 401

    # Bad input is named.
    r = await staff.post(f"/api/campaigns/{campaign_id}/share-links", json={"password": "short"})
    assert r.status_code == 422
    past = (utcnow() - timedelta(hours=1)).isoformat()
    r = await staff.post(f"/api/campaigns/{campaign_id}/share-links", json={"expires_at": past})
    assert r.status_code == 422
    assert "expires_at" in r.text

    # Revoked: the very next request answers 404.
    r = await staff.delete(f"/api/share-links/{link['id']}")
    assert r.status_code == 204
    async with httpx.AsyncClient(timeout=10) as visitor:
        assert (await visitor.get(link["url"])).status_code == 404
    listed = await _ok(staff.get(f"/api/campaigns/{campaign_id}/share-links"))
    assert [i["state"] for i in listed["items"]] == ["revoked"]

    for c in (staff, rival, analyst):
        await c.aclose()


async def test_a_client_invite_mails_a_working_link(
    services: dict[str, ServiceProcess], service_env: dict[str, str], mail_dir: Path
) -> None:
    gateway = services["gateway"]
    staff, _ = await _agency(gateway, service_env)
    client = await _ok(staff.post("/api/clients", json={"name": "Peak Outdoor"}))
    today = utcnow().date()
    campaign = await _ok(
        staff.post(
            "/api/campaigns",
            json={
                "client_id": client["id"],
                "name": "Winter Trail",
                "start_date": today.isoformat(),
                "end_date": (today + timedelta(days=9)).isoformat(),
            },
        )
    )
    before = set(mail_dir.glob("*.eml"))
    invite = await _ok(
        staff.post(
            "/api/client-invites",
            json={"campaign_id": campaign["id"], "email": "anna@peak-outdoor.com"},
        )
    )
    assert "token" not in invite, "the link travels in the mail only"
    (sent,) = set(mail_dir.glob("*.eml")) - before
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    assert message["To"] == "anna@peak-outdoor.com"
    assert "Winter Trail" in message["Subject"]
    assert invite["url"] in message.get_content()
    deadline = time.monotonic() + 15
    async with httpx.AsyncClient(timeout=10) as visitor:  # the client, with no account
        while (page := await visitor.get(invite["url"])).status_code != 200:
            assert time.monotonic() < deadline, page.text
            # Until share has the campaign it answers 404; polling too fast meets its rate limit.
            await asyncio.sleep(1.0 if page.status_code == 429 else 0.3)
        assert "Winter Trail" in page.text

    analyst_email = f"analyst-{uuid4().hex[:8]}@northwind.agency"
    await _ok(
        staff.post(
            "/api/users", json={"email": analyst_email, "role": "analyst", "password": PASSWORD}
        )
    )
    analyst = await _login(gateway, analyst_email)
    body = {"campaign_id": campaign["id"], "email": "anna@peak-outdoor.com"}
    assert (await analyst.post("/api/client-invites", json=body)).status_code == 403
    other, _ = await _agency(gateway, service_env)
    assert (await other.post("/api/client-invites", json=body)).status_code == 404
    for c in (staff, analyst, other):
        await c.aclose()
