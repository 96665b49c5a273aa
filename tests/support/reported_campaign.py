"""A campaign staff built through the gateway's API, with samples as ingest would publish them,
computed by the aggregator and projected by share: the same numbers reach the staff API, the
staff PDF report and the client's share link."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import httpx

from pulse_contracts import utcnow
from pulse_contracts.posts import PostFacts, PostPulled, Sample
from tests.support.agency import PASSWORD, create_org
from tests.support.scenario import Bus
from tests.support.services import ROOT, ServiceProcess

LOGS = ROOT / "test-artifacts" / "logs"
T = TypeVar("T")

# Money no count on a page can reach, so finding one of them in a text is a leak.
FEE_MAYA, FEE_LEO = 1_234_567_89, 987_654_32
BUDGET = 5_432_109_87
THUMB = "https://p16-sign.tiktokcdn.com/obj/cover-maya.jpeg"
AVATAR = "https://p16.tiktokcdn.com/avatar/maya.jpeg"


@dataclass
class ReportedCampaign:
    org_id: UUID
    campaign_id: UUID
    staff: httpx.AsyncClient
    stranger: httpx.AsyncClient
    share_token: str
    gateway_url: str
    share_url: str


@contextmanager
def reporting_services(service_env: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    """aggregator, reporter, share and gateway as processes (ingest's part is played by the
    test); the staff and client PDFs are report jobs the reporter renders."""
    reporter = ServiceProcess("reporter", service_env, LOGS)
    share = ServiceProcess("share", {**service_env, "PULSE_SHARE_REPORTER_URL": reporter.url}, LOGS)
    # Scheduled client reports: the reporter asks share for the link and the client view.
    reporter.env = {**service_env, "PULSE_REPORTER_SHARE_URL": share.url}
    share.env = {**share.env, "PULSE_SHARE_PUBLIC_URL": share.url}  # links it mails must open
    procs = {
        "aggregator": ServiceProcess("aggregator", service_env, LOGS),
        "reporter": reporter,
        "share": share,
    }
    try:
        with ThreadPoolExecutor(3) as pool:
            for future in [pool.submit(p.start) for p in procs.values()]:
                future.result()
        procs["gateway"] = ServiceProcess(
            "gateway",
            {
                **service_env,
                "PULSE_GATEWAY_AGGREGATOR_URL": procs["aggregator"].url,
                # Alerter and ingest are not running: nothing here reads them.
                "PULSE_GATEWAY_SHARE_URL": procs["share"].url,
                "PULSE_GATEWAY_SHARE_PUBLIC_URL": procs["share"].url,
                "PULSE_GATEWAY_REPORTER_URL": reporter.url,
            },
            LOGS,
        )
        procs["gateway"].start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


async def wait_for(probe: Callable[[], Awaitable[T | None]], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.2)


async def staff_report_job(staff: httpx.AsyncClient, path: str, timeout: float = 240) -> Any:
    """Ask for a report job at `path` (202), follow it until done, and return the job."""
    asked = await staff.post(path)
    assert asked.status_code == 202, asked.text
    location = asked.headers["location"]

    async def finished() -> Any:
        job = (await staff.get(location)).json()
        assert job["status"] != "failed", job
        return job if job["status"] == "done" else None

    return await wait_for(finished, timeout, f"report job {location}")


async def client_pdf(share: httpx.AsyncClient, token: str, timeout: float = 240) -> httpx.Response:
    """The share link's PDF as a browser gets it: "preparing your report…" (202, refreshing
    itself) until the same URL answers the PDF."""
    seen_preparing: list[bool] = []

    async def ready() -> httpx.Response | None:
        r = await share.get(f"/share/{token}/report.pdf")
        if r.status_code == 202:
            assert "Preparing your report" in r.text
            assert r.headers["refresh"] == "2"
            seen_preparing.append(True)
            return None
        return r

    found = await wait_for(ready, timeout, f"the PDF of share link {token[:6]}…")
    return found


async def _login(base_url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=60)
    r = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


async def _agency(gateway: str, service_env: dict[str, str], name: str) -> tuple[UUID, Any]:
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    ids = await asyncio.to_thread(create_org, service_env, name, email, test=True)
    return UUID(ids["org_id"]), await _login(gateway, email)


async def _ok(response: Awaitable[httpx.Response]) -> Any:
    r = await response
    assert r.status_code < 300, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json() if r.content else None


async def reported_campaign(
    procs: dict[str, ServiceProcess], service_env: dict[str, str]
) -> ReportedCampaign:
    gateway, share = procs["gateway"].url, procs["share"].url
    org_id, staff = await _agency(gateway, service_env, "Northwind Talent")
    _, stranger = await _agency(gateway, service_env, "Southwind Media")
    client = await _ok(
        staff.post(
            "/api/clients",
            json={
                "name": "Lumière Cosmetics",
                "brand_color": "#C2185B",
                "logo_url": "https://brand.example/lumiere.png",
            },
        )
    )
    today = utcnow().date()
    campaign = await _ok(
        staff.post(
            "/api/campaigns",
            json={
                "client_id": client["id"],
                "name": "Glow Serum Launch",
                "status": "live",
                "start_date": (today - timedelta(days=6)).isoformat(),
                "end_date": (today + timedelta(days=8)).isoformat(),
                "budget_cents": BUDGET,
                "currency": "EUR",
                "committed_views": 3_000_000,
                "committed_engagement": 200_000,
            },
        )
    )
    maya = await _ok(
        staff.post(
            "/api/influencers",
            json={
                "display_name": "Maya Styles",
                "avatar_url": AVATAR,
                "tier": "macro",
                "handles": [{"platform": "tiktok", "handle": "maya.styles"}],
            },
        )
    )
    leo = await _ok(
        staff.post(
            "/api/influencers",
            json={
                "display_name": "Leo Runs",
                "tier": "micro",
                "handles": [{"platform": "instagram", "handle": "leo.runs"}],
            },
        )
    )
    cid = campaign["id"]
    bookings = [
        await _ok(
            staff.post(
                f"/api/campaigns/{cid}/bookings",
                json={"influencer_id": who["id"], "fee_cents": fee, "committed_posts": 2},
            )
        )
        for who, fee in ((maya, FEE_MAYA), (leo, FEE_LEO))
    ]
    posts = [
        await _ok(staff.post(f"/api/bookings/{bookings[0]['id']}/posts", json={"url": url}))
        for url in (
            "https://www.tiktok.com/@maya.styles/video/7433917265401856302",
            "https://www.tiktok.com/@maya.styles/video/7433917265401856399",
        )
    ] + [
        await _ok(
            staff.post(
                f"/api/bookings/{bookings[1]['id']}/posts",
                json={"url": "https://www.instagram.com/p/CleoRuns01/"},
            )
        )
    ]

    # What ingest publishes after pulling: a batch of samples, and the posts' facts.
    now = utcnow()
    counters = [
        (1_234_567, 98_765, 4_321, 1_234, 567),
        (345_678, 20_001, 1_002, 303, 99),
        (222_222, 13_000, 755, None, None),
    ]
    samples = []
    for post, (views, likes, comments, shares, saves) in zip(posts, counters, strict=True):
        for days_ago, share_of in ((3, 0.4), (1, 0.8), (0, 1.0)):
            samples.append(
                Sample(
                    post_id=post["id"],
                    booking_id=post["booking_id"],
                    campaign_id=cid,
                    platform=post["platform"],
                    observed_at=now - timedelta(days=days_ago, minutes=5),
                    source="provider",
                    views=int(views * share_of),
                    likes=int(likes * share_of),
                    comments=int(comments * share_of),
                    shares=None if shares is None else int(shares * share_of),
                    saves=None if saves is None else int(saves * share_of),
                )
            )
    facts = [
        PostFacts(
            post_id=posts[0]["id"],
            posted_at=now - timedelta(days=4),
            caption="My glow routine",
            thumb_url=THUMB,
        )
    ]
    expected_views = sum(c[0] for c in counters)

    async def numbers_known() -> bool | None:
        got = await _ok(staff.get(f"/api/campaigns/{cid}"))
        return True if got["kpis"] and got["kpis"]["actual_posts"] == len(posts) else None

    async with Bus(service_env["PULSE_AMQP_URL"]) as bus:
        # The aggregator may see the samples before the catalog events: it keeps both, and the
        # numbers settle once it knows every post.
        await bus.publish_event(org_id, PostPulled(samples=samples, posts=facts))
        await wait_for(numbers_known, 30, "the aggregator's numbers")

    link = await _ok(staff.post(f"/api/campaigns/{cid}/share-links", json={}))
    token = link["token"]

    async def share_agrees() -> bool | None:
        async with httpx.AsyncClient(base_url=share, timeout=10) as anonymous:
            r = await anonymous.get(f"/api/share/{token}")
        if r.status_code != 200:
            return None
        body = r.json()
        return True if body["kpis"]["actual_views"] == expected_views else None

    await wait_for(share_agrees, 30, "share's projection of the same kpi.updated")
    return ReportedCampaign(
        org_id=org_id,
        campaign_id=UUID(cid),
        staff=staff,
        stranger=stranger,
        share_token=token,
        gateway_url=gateway,
        share_url=share,
    )
