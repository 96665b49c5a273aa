"""What an agency's operators see of n8n and of the data flowing in, through the gateway only
(issue 13): signing secrets in Settings (shown once, rotated, required), runs with each post's
outcome, rejected items (held until their post is registered, replayed), and the red flags of
the Health screen; each as API and as a page, for owners and managers, not analysts."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from pulse_contracts import utcnow
from pulse_gateway.pages.operations import REJECTED_PER_PAGE, RUNS_PER_PAGE
from tests.support.agency import PASSWORD, create_org
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.system
LOGS = ROOT / "test-artifacts" / "logs"


@pytest.fixture(scope="module")
def system(service_env: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    procs: dict[str, ServiceProcess] = {}
    try:
        procs["ingest"] = ServiceProcess("ingest", service_env, LOGS)
        procs["ingest"].start()
        env = {**service_env, "PULSE_GATEWAY_INGEST_URL": procs["ingest"].url}
        procs["gateway"] = ServiceProcess("gateway", env, LOGS)
        procs["gateway"].start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


async def ok(response: Any) -> Any:
    r: httpx.Response = await response
    assert r.status_code < 300, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


async def browser_session(base_url: str, email: str) -> httpx.AsyncClient:
    """Signed in through the login form, holding the cookies a browser would (the pages')."""
    client = httpx.AsyncClient(base_url=base_url, timeout=15)
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/campaigns"}
    )
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = client.cookies["pulse_csrf"]
    return client


async def signed_in(base_url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=15)
    login = await ok(client.post("/api/auth/login", json={"email": email, "password": PASSWORD}))
    client.headers["Authorization"] = f"Bearer {login['access_token']}"
    client.headers["X-CSRF-Token"] = login["csrf_token"]
    return client


@pytest.fixture(scope="module")
async def agency(
    system: dict[str, ServiceProcess], service_env: dict[str, str]
) -> AsyncIterator[dict[str, Any]]:
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    await asyncio.to_thread(create_org, service_env, "Northwind", email)
    owner = await signed_in(system["gateway"].url, email)
    browser = await browser_session(system["gateway"].url, email)
    analyst_email = f"analyst-{uuid4().hex[:8]}@northwind.agency"
    await ok(
        owner.post(
            "/api/users",
            json={"email": analyst_email, "name": "Ana", "role": "analyst", "password": PASSWORD},
        )
    )
    analyst = await signed_in(system["gateway"].url, analyst_email)
    today = utcnow().date()
    client = await ok(owner.post("/api/clients", json={"name": "Lumière"}))
    campaign = await ok(
        owner.post(
            "/api/campaigns",
            json={
                "client_id": client["id"],
                "name": "Winter",
                "status": "live",
                "start_date": (today - timedelta(days=2)).isoformat(),
                "end_date": (today + timedelta(days=20)).isoformat(),
            },
        )
    )
    creator = await ok(
        owner.post(
            "/api/influencers",
            json={
                "display_name": "Maya",
                "handles": [{"platform": "tiktok", "handle": "maya", "followers": 1000}],
            },
        )
    )
    booking = await ok(
        owner.post(
            f"/api/campaigns/{campaign['id']}/bookings",
            json={"influencer_id": creator["id"], "fee_cents": 1000, "committed_views": 1000},
        )
    )
    token = (await ok(owner.post("/api/tokens", json={"name": "n8n", "scopes": ["ingest"]})))[
        "token"
    ]
    ingest = httpx.AsyncClient(
        base_url=system["ingest"].url, headers={"Authorization": f"Bearer {token}"}, timeout=15
    )
    try:
        yield {
            "owner": owner,
            "analyst": analyst,
            "ingest": ingest,
            "booking": booking,
            "browser": browser,
        }
    finally:
        for c in (owner, analyst, ingest, browser):
            await c.aclose()


async def test_signing_secrets_are_managed_in_settings_and_stay_in_ingest(
    agency: dict[str, Any],
) -> None:
    owner, analyst, ingest = agency["owner"], agency["analyst"], agency["ingest"]
    assert (await analyst.get("/api/signing-secrets")).status_code == 403
    refused = await owner.put("/api/signing", json={"required": True})
    assert refused.status_code == 409, "no secret yet"

    first = await ok(owner.post("/api/signing-secrets"))
    assert first["secret"].startswith("whsec_")
    listed = await ok(owner.get("/api/signing-secrets"))
    assert first["secret"] not in str(listed)
    assert [(s["hint"], s["active"]) for s in listed["items"]] == [(first["secret"][-4:], True)]
    browser = agency["browser"]
    page = await browser.get("/settings/signing")
    assert page.status_code == 200
    assert first["secret"] not in page.text
    assert first["secret"][-4:] in page.text

    await ok(owner.put("/api/signing", json={"required": True}))
    unsigned = await ingest.post("/api/ingest/posts", json={"metrics": {"views": 1}, "url": "x"})
    assert unsigned.status_code == 401

    # Rotation from the screen: a second secret shown once, then the older one retired.
    created = await browser.post("/settings/signing/new")
    assert created.status_code == 200
    assert "whsec_" in created.text
    assert (await owner.post("/api/signing-secrets")).status_code == 409, "at most two"
    retired = await ok(owner.post("/api/signing-secrets/retire-older"))
    assert retired["retired"] == first["id"]
    await ok(owner.put("/api/signing", json={"required": False}))


async def test_runs_rejected_items_and_red_flags_for_operators(agency: dict[str, Any]) -> None:
    owner, analyst, ingest = agency["owner"], agency["analyst"], agency["ingest"]
    browser = agency["browser"]
    url = f"https://www.tiktok.com/@maya/video/{7_400_000_000_000_000_000 + int(time.time())}"

    # n8n runs before the post is registered: the sample is held, not lost.
    run = await ok(ingest.post("/api/ingest/runs", json={"source": "n8n", "execution_id": "9"}))
    answer = await ok(
        ingest.post(
            "/api/ingest/posts",
            json={"url": url, "metrics": {"views": 777}},
            headers={"X-Pulse-Run": run["run_id"]},
        )
    )
    assert [(r["code"], r["held"]) for r in answer["rejected"]] == [("unknown_post", True)]
    held = await ok(owner.get("/api/rejected-items?code=unknown_post"))
    assert [i["raw"]["url"] for i in held["items"]] == [url]
    assert held["items"][0]["held"] is True
    page = await browser.get("/rejected-items?code=unknown_post")
    assert page.status_code == 200
    assert url in page.text

    completed = await ok(
        ingest.post(
            f"/api/ingest/runs/{run['run_id']}/complete",
            json={
                "outcomes": [
                    {"url": url, "status": "failed", "code": "server_error", "http_status": 500}
                ]
            },
        )
    )
    # The outcome names a post the organization does not track (yet): refused on its own.
    assert [r["code"] for r in completed["rejected_outcomes"]] == ["unknown_post"]

    # The post registered through the gateway: the held sample is applied by itself.
    post = await ok(owner.post(f"/api/bookings/{agency['booking']['id']}/posts", json={"url": url}))
    deadline = time.monotonic() + 15
    while (await ok(owner.get("/api/rejected-items")))["items"]:
        assert time.monotonic() < deadline, "the held item was never applied"
        await asyncio.sleep(0.2)
    assert post["id"]

    # Runs: listed with filters, detail with the refused outcome, for managers and owners.
    assert (await analyst.get("/api/runs")).status_code == 403
    listed = await ok(owner.get("/api/runs?source=n8n"))
    (mine,) = [r for r in listed["items"] if r["run_id"] == run["run_id"]]
    assert (mine["status"], mine["execution_id"], mine["rejected"]) == ("failed", "9", 1)
    detail = await ok(owner.get(f"/api/runs/{run['run_id']}"))
    assert [(i["kind"], i["status"], i["code"]) for i in detail["items"]] == [
        ("item", "rejected", "unknown_post"),
        ("outcome", "rejected", "unknown_post"),
    ]
    assert run["run_id"] in (await browser.get("/runs?status=failed")).text
    assert (await browser.get(f"/runs/{run['run_id']}")).status_code == 200

    # The failed run is a red flag, linked to the runs that failed.
    flags = await ok(owner.get("/api/red-flags"))
    by_key = {f["key"]: f for f in flags["flags"]}
    assert by_key["runs_failed"]["href"] == "/runs?status=failed"
    assert by_key["runs_failed"]["count"] >= 1
    health = await browser.get("/red-flags")
    assert health.status_code == 200
    assert "Runs failed in the last 24 h" in health.text
    assert (await analyst.get("/api/red-flags")).status_code == 403

    # Replaying an item still invalid keeps it, with its reason.
    bad = await ok(
        ingest.post(
            "/api/ingest/posts", json={"url": url, "platform": "youtube", "metrics": {"views": 1}}
        )
    )
    assert [r["code"] for r in bad["rejected"]] == ["platform_mismatch"]
    (kept,) = (await ok(owner.get("/api/rejected-items")))["items"]
    replayed = await ok(owner.post("/api/rejected-items/replay", json={"ids": [kept["id"]]}))
    assert replayed["applied"] == []
    assert [r["code"] for r in replayed["still_rejected"]] == ["platform_mismatch"]
    assert [i["id"] for i in (await ok(owner.get("/api/rejected-items")))["items"]] == [kept["id"]]


def _shown(page: httpx.Response, attribute: str) -> list[str]:
    """The ids a list page shows, top to bottom (`data-run-id`, `data-rejected-id`)."""
    return re.findall(rf'{attribute}="([^"]+)"', page.text)


def _link(page: httpx.Response, text: str) -> str | None:
    """The href of the page's link reading `text`, unescaped as the browser follows it."""
    found = re.search(rf'<a href="([^"]+)"[^>]*>{text}</a>', page.text)
    return html.unescape(found.group(1)) if found else None


async def test_runs_and_rejected_items_page_back_to_the_oldest(agency: dict[str, Any]) -> None:
    """More runs (or refused items) than a page holds: the page says it shows the newest and
    links on to older ones with its filter kept, and each one is on exactly one page."""
    ingest, browser = agency["ingest"], agency["browser"]
    opened = [
        (
            await ok(
                ingest.post("/api/ingest/runs", json={"source": "n8n", "execution_id": f"p{i}"})
            )
        )["run_id"]
        for i in range(RUNS_PER_PAGE + 5)
    ]
    newest_first = opened[::-1]

    first = await browser.get("/runs?source=n8n")
    assert first.status_code == 200
    assert _shown(first, "data-run-id") == newest_first[:RUNS_PER_PAGE]
    assert f"The newest {RUNS_PER_PAGE} runs" in first.text
    assert f'<span class="count">{RUNS_PER_PAGE}+</span>' in first.text
    assert _link(first, "Newest runs") is None
    older = _link(first, "Older runs")
    assert older is not None
    assert older.startswith("/runs?source=n8n&cursor=")

    second = await browser.get(older)
    assert second.status_code == 200
    rest = _shown(second, "data-run-id")
    assert rest[:5] == newest_first[RUNS_PER_PAGE:]  # then the earlier tests' n8n runs
    assert not set(rest) & set(newest_first[:RUNS_PER_PAGE])
    assert _link(second, "Newest runs") == "/runs?source=n8n"
    assert _link(second, "Older runs") is None
    assert (await browser.get("/runs?cursor=not-a-cursor")).status_code == 400

    url = "https://www.tiktok.com/@maya/video/7400000000000000001"
    refused = await ok(
        ingest.post("/api/ingest/posts", json=[{"url": url}] * (REJECTED_PER_PAGE + 3))
    )
    assert {r["code"] for r in refused["rejected"]} == {"no_metrics"}
    first = await browser.get("/rejected-items?code=no_metrics")
    ids = _shown(first, "data-rejected-id")
    assert len(ids) == REJECTED_PER_PAGE
    older = _link(first, "Older items")
    assert older is not None
    assert older.startswith("/rejected-items?code=no_metrics&cursor=")
    second = await browser.get(older)
    assert len(_shown(second, "data-rejected-id")) == 3
    assert not set(_shown(second, "data-rejected-id")) & set(ids)
    assert _link(second, "Newest items") == "/rejected-items?code=no_metrics"
    assert (await browser.get("/rejected-items?cursor=x1")).status_code == 400
