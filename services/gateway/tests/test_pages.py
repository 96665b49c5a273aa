"""Dashboard pages without a browser: sign-in, tenancy, headers, and the number formatting."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from pulse_gateway.pages.common import (
    estimated_badge,
    fmt_compact,
    fmt_money,
    fmt_number,
    fmt_pct,
    fmt_rate,
    safe_next,
)
from tests.support.agency import PASSWORD, create_org
from tests.support.services import ROOT, ServiceProcess, peers_down

pytestmark = pytest.mark.integration


def test_numbers_read_the_way_an_account_manager_expects() -> None:
    assert fmt_number(1_843_211) == "1,843,211"
    assert fmt_number(0) == "0"  # a measured zero stays a zero
    assert "n/a" in fmt_number(None)  # and a missing figure never becomes one
    assert fmt_pct(12.5) == "12.50%"
    assert fmt_pct(0.0) == "0.00%"
    assert "n/a" in fmt_pct(None)
    assert fmt_money(123_456, "EUR") == "€1,234.56"
    assert fmt_money(16_688_000, "EUR", whole=True) == "€166,880"
    assert fmt_money(-5, "SEK") == "-SEK 0.05"
    assert fmt_money(99, "NOK") == "0.99 NOK"
    assert "n/a" in fmt_money(None, "EUR")
    assert fmt_rate(117.3, "USD") == "$117.30"
    assert "n/a" in fmt_rate(None, "USD")
    assert fmt_compact(1_250_000) == "1.25M"
    assert fmt_compact(1_300_000) == "1.3M"
    assert fmt_compact(1_254_999) == "1.25M"
    assert fmt_compact(845_000) == "845K"
    assert fmt_compact(999) == "999"
    assert "est." in estimated_badge(True)
    assert estimated_badge(False) == ""


def test_sign_in_only_returns_to_a_page_of_this_site() -> None:
    assert safe_next("/campaigns/1?x=2") == "/campaigns/1?x=2"
    for hostile in ("https://evil.example/", "//evil.example", "/\\evil.example", None, ""):
        assert safe_next(hostile) == "/campaigns"


@pytest.fixture(scope="module")
def gateway(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    # No peers run: pages must still answer, with a notice where numbers are missing.
    proc = ServiceProcess("gateway", peers_down(service_env), ROOT / "test-artifacts" / "logs")
    proc.start()
    yield proc
    proc.stop()


async def _agency(gateway: ServiceProcess, service_env: dict[str, str]) -> dict[str, Any]:
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    await asyncio.to_thread(create_org, service_env, "Northwind Talent", email)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as api:
        login = await api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        client = (await api.post("/api/clients", json={"name": "Lumière Skincare"})).json()
        today = date.today()
        campaign = (
            await api.post(
                "/api/campaigns",
                json={
                    "client_id": client["id"],
                    "name": f"Holiday Gift Sets {uuid4().hex[:4]}",
                    "status": "live",
                    "start_date": (today - timedelta(days=5)).isoformat(),
                    "end_date": (today + timedelta(days=5)).isoformat(),
                    "currency": "EUR",
                },
            )
        ).json()
    return {"email": email, "campaign": campaign}


async def _browser_session(gateway: ServiceProcess, email: str) -> httpx.AsyncClient:
    """Signed in through the login form, holding the cookies a browser would."""
    client = httpx.AsyncClient(base_url=gateway.url, timeout=10)
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/campaigns"}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/campaigns"
    return client


async def test_pages_send_strangers_to_sign_in_and_back(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    agency = await _agency(gateway, service_env)
    campaign_id = agency["campaign"]["id"]
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as anonymous:
        for path in ("/campaigns?status=live", f"/campaigns/{campaign_id}", "/compare"):
            response = await anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=/"), path
        assert (await anonymous.get("/campaigns?status=live")).headers["location"] == (
            "/login?next=/campaigns%3Fstatus%3Dlive"
        )
        # An htmx fragment request is sent to the login page as a whole, not swapped in.
        fragment = await anonymous.get(
            f"/campaigns/{campaign_id}/fragments/numbers",
            headers={"HX-Request": "true", "HX-Current-URL": f"/campaigns/{campaign_id}"},
        )
        assert fragment.status_code == 204
        assert fragment.headers["HX-Redirect"] == f"/login?next=/campaigns/{campaign_id}"
        login_page = await anonymous.get("/login?next=/campaigns")
        assert login_page.status_code == 200
        assert 'name="password"' in login_page.text
        wrong = await anonymous.post(
            "/login", data={"email": agency["email"], "password": "not it", "next": "/campaigns"}
        )
        assert wrong.status_code == 401
        assert "do not match an account" in wrong.text
        assert "pulse_session" not in wrong.cookies
        hostile = await anonymous.post(
            "/login",
            data={"email": agency["email"], "password": PASSWORD, "next": "//evil.example/"},
        )
        assert hostile.headers["location"] == "/campaigns"


async def test_a_signed_in_person_sees_their_campaigns_and_nobody_elses(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    mine, theirs = await _agency(gateway, service_env), await _agency(gateway, service_env)
    browser = await _browser_session(gateway, mine["email"])
    try:
        listing = await browser.get("/campaigns")
        assert listing.status_code == 200
        assert mine["campaign"]["name"] in listing.text
        assert theirs["campaign"]["name"] not in listing.text
        assert "aggregator service is unavailable" in listing.text  # peers are down here
        assert listing.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert "'unsafe-inline'" not in listing.headers["Content-Security-Policy"]
        assert re.fullmatch(r"render;dur=\d+(\.\d+)?", listing.headers["Server-Timing"])
        csrf = browser.cookies["pulse_csrf"]
        assert f'<meta name="csrf-token" content="{csrf}">' in listing.text
        assert f'hx-headers=\'{{"X-CSRF-Token": "{csrf}"}}\'' in listing.text
        assert "<script>" not in listing.text
        assert " style=" not in listing.text

        searched = await browser.get(
            "/campaigns",
            params={"q": "no such campaign"},
            headers={"HX-Request": "true", "HX-Target": "campaign-list"},
        )
        assert searched.text.lstrip().startswith('<div id="campaign-list"')
        assert "No campaign matches these filters" in searched.text

        other = await browser.get(f"/campaigns/{theirs['campaign']['id']}")
        missing = await browser.get(f"/campaigns/{uuid4()}")
        assert other.status_code == missing.status_code == 404
        assert "belongs to another organization" in other.text
        assert theirs["campaign"]["name"] not in other.text
        assert other.text == missing.text  # nothing tells the two apart
        malformed = await browser.get("/campaigns/not-a-campaign")
        assert malformed.status_code == 404
        assert "text/html" in malformed.headers["content-type"]
        compare = await browser.get(
            "/compare", params={"ids": f"{mine['campaign']['id']},{theirs['campaign']['id']}"}
        )
        assert compare.status_code == 404

        # Pages are for browsers: a bearer token does not open them, and they are not API.
        spec = (await browser.get("/openapi.json")).json()
        assert not [p for p in spec["paths"] if p.startswith(("/campaigns", "/login"))]
    finally:
        await browser.aclose()


async def test_signing_out_needs_the_pages_csrf_token(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    agency = await _agency(gateway, service_env)
    browser = await _browser_session(gateway, agency["email"])
    try:
        forged = await browser.post("/logout", data={"csrf_token": "forged"})
        assert forged.status_code == 403
        assert (await browser.get("/campaigns")).status_code == 200
        done = await browser.post("/logout", data={"csrf_token": browser.cookies["pulse_csrf"]})
        assert done.status_code == 303
        assert done.headers["location"] == "/login"
        assert (await browser.get("/campaigns")).status_code == 303
    finally:
        await browser.aclose()


async def test_screens_and_reads_answer_while_an_edit_holds_their_rows(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    """Screens and API reads only read the catalog. They used to lock the rows they showed
    (SELECT … FOR UPDATE, the form of a read before a write), so an edit in progress, or
    another viewer's refresh (the campaign page refetches on every kpi.updated), made them
    wait for it; now they read one snapshot, read-only, and answer at once."""
    agency = await _agency(gateway, service_env)
    campaign_id = agency["campaign"]["id"]
    client_id = agency["campaign"]["client_id"]
    browser = await _browser_session(gateway, agency["email"])
    api = httpx.AsyncClient(base_url=gateway.url, timeout=10)
    login = await api.post("/api/auth/login", json={"email": agency["email"], "password": PASSWORD})
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    creator = await api.post("/api/influencers", json={"display_name": "Maya Lin"})
    influencer_id = creator.json()["id"]
    editor = await asyncpg.connect(service_env["PULSE_DATABASE_URL"])
    try:
        async with editor.transaction():
            # What edits in progress hold: the rows they change, until they commit.
            for table, row_id in (
                ("campaigns", campaign_id),
                ("clients", client_id),
                ("influencers", influencer_id),
            ):
                await editor.execute(
                    f"SELECT id FROM catalog.{table} WHERE id = $1 FOR UPDATE", UUID(row_id)
                )
            # (The alerts fragment asks the alerter first, which does not run here; the posts
            # list reads the campaign, then asks ingest, which does not run either: 503.)
            for client, path, status in (
                (browser, f"/campaigns/{campaign_id}", 200),
                (browser, f"/campaigns/{campaign_id}/fragments/numbers", 200),
                (browser, f"/campaigns/{campaign_id}/fragments/tags", 200),
                (browser, f"/influencers/{influencer_id}", 200),
                # The edit forms show what they will change; the save locks, not the form.
                (browser, f"/campaigns/{campaign_id}/edit", 200),
                (browser, f"/clients/{client_id}/edit", 200),
                (browser, f"/influencers/{influencer_id}/edit", 200),
                (api, f"/api/clients/{client_id}", 200),
                (api, f"/api/influencers/{influencer_id}", 200),
                (api, f"/api/campaigns/{campaign_id}/posts", 503),
            ):
                answer = await asyncio.wait_for(
                    client.get(path, headers={"HX-Request": "true"}), timeout=5
                )
                assert answer.status_code == status, path
            page = await browser.get(f"/influencers/{influencer_id}")
            assert "Maya Lin" in page.text
    finally:
        await editor.close()
        await api.aclose()
        await browser.aclose()


def _roster(page: httpx.Response) -> list[str]:
    """The creators the Influencers screen lists, top to bottom."""
    assert page.status_code == 200, page.text
    return re.findall(r'class="row-title" href="/influencers/[^"]+">([^<]+)</a>', page.text)


def _next_page(page: httpx.Response) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
    return html.unescape(found.group(1)) if found else None


async def test_the_roster_lists_and_filters_every_creator_a_page_at_a_time(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    """An agency books hundreds of creators: the Influencers screen lists them A to Z, 200 a
    page, and its search and filters find a creator wherever it sits in the roster (they used
    to run over the 200 added last, so an older creator could not be found by tier)."""
    agency = await _agency(gateway, service_env)
    browser = await _browser_session(gateway, agency["email"])
    api = httpx.AsyncClient(base_url=gateway.url, timeout=10)
    login = await api.post("/api/auth/login", json={"email": agency["email"], "password": PASSWORD})
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    named = {}
    for name, tier, handles in (
        ("Aria Macro", "Macro", [("tiktok", "aria", 1_800_000)]),
        ("Ben Micro", "micro", [("youtube", "ben", None)]),
        ("Cleo Both", None, [("instagram", "cleo", 60_000), ("youtube", "cleo", 50_000)]),
    ):
        created = await api.post(
            "/api/influencers",
            json={
                "display_name": name,
                "tier": tier,
                "handles": [{"platform": p, "handle": h, "followers": f} for p, h, f in handles],
            },
        )
        assert created.status_code == 201, created.text
        named[name] = UUID(created.json()["id"])
    filler = [f"Zed {n:03d}" for n in range(250)]  # added after them, as a roster grows
    db = await asyncpg.connect(service_env["PULSE_DATABASE_URL"])
    try:
        org_id = await db.fetchval(
            "SELECT org_id FROM catalog.influencers WHERE id = $1", named["Aria Macro"]
        )
        ids = [uuid4() for _ in filler]
        await db.executemany(
            "INSERT INTO catalog.influencers (id, org_id, display_name, tier, created_at)"
            " VALUES ($1, $2, $3, 'nano', now() + interval '1 minute')",
            [(i, org_id, name) for i, name in zip(ids, filler, strict=True)],
        )
        await db.executemany(
            "INSERT INTO catalog.influencer_handles (influencer_id, org_id, platform, handle,"
            " followers) VALUES ($1, $2, 'tiktok', $3, 1000)",
            [(i, org_id, name.replace(" ", "")) for i, name in zip(ids, filler, strict=True)],
        )
    finally:
        await db.close()
    try:
        everyone = ["Aria Macro", "Ben Micro", "Cleo Both", *filler]
        first = await browser.get("/influencers")
        assert _roster(first) == everyone[:200]
        assert "Influencers A to Z, 200 a page" in first.text
        following = _next_page(first)
        assert following is not None
        second = await browser.get(following)
        assert _roster(second) == everyone[200:]
        assert _next_page(second) is None
        assert '<a href="/influencers">Back to A</a>' in second.text

        async def listed(query: str) -> list[str]:
            return _roster(await browser.get(f"/influencers?{query}"))

        assert await listed("tier=macro") == ["Aria Macro"]
        assert await listed("platform=youtube") == ["Ben Micro", "Cleo Both"]
        # Followers over every handle; a creator whose count is unknown is never 100K+.
        assert await listed("followers=100k") == ["Aria Macro", "Cleo Both"]
        assert await listed("platform=youtube&followers=1m") == []
        assert await listed("q=cle") == ["Cleo Both"]
        nano = await browser.get("/influencers?tier=nano")
        assert _roster(nano) == filler[:200]
        after = _next_page(nano)
        assert after is not None
        assert "tier=nano" in after
        assert _roster(await browser.get(after)) == filler[200:]
        # The tier filter offers every tier of the roster, not only the listed page's.
        assert re.findall(r'<option value="([^"]+)"[^>]*>[^<]+</option>', first.text)[:3] == [
            "Macro",
            "micro",
            "nano",
        ]
    finally:
        await api.aclose()
        await browser.aclose()


async def test_the_campaigns_screen_goes_on_to_older_campaigns(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    """Past a page of campaigns, the list says it shows the newest and links on to older ones,
    keeping the filters, and each campaign is on one page only."""
    agency = await _agency(gateway, service_env)
    browser = await _browser_session(gateway, agency["email"])
    campaign_id = UUID(agency["campaign"]["id"])
    db = await asyncpg.connect(service_env["PULSE_DATABASE_URL"])
    try:
        org_id, client_id = await db.fetchrow(
            "SELECT org_id, client_id FROM catalog.campaigns WHERE id = $1", campaign_id
        )
        names = [f"Drop {n:03d}" for n in range(205)]  # created one after the other
        await db.executemany(
            "INSERT INTO catalog.campaigns (id, org_id, client_id, name, status, start_date,"
            " end_date, currency, created_at) VALUES ($1, $2, $3, $4, 'ended', '2026-01-01',"
            " '2026-01-31', 'EUR', now() + $5 * interval '1 second')",
            [(uuid4(), org_id, client_id, name, n + 1) for n, name in enumerate(names)],
        )
    finally:
        await db.close()

    def listed(page: httpx.Response) -> list[str]:
        assert page.status_code == 200, page.text
        return re.findall(r'<a class="row-title" href="/campaigns/[^"]+">([^<]+)</a>', page.text)

    try:
        newest_first = names[::-1]
        first = await browser.get("/campaigns?q=drop")
        assert listed(first) == newest_first[:200]
        assert "200+ campaigns" in first.text
        assert "The newest 200 campaigns" in first.text
        older = _next_page(first)
        assert older is not None
        assert older.startswith("/campaigns?q=drop&cursor=")
        second = await browser.get(older)
        assert listed(second) == newest_first[200:]
        assert _next_page(second) is None
        assert '<a href="/campaigns?q=drop">Newest campaigns</a>' in second.text
        assert (await browser.get("/campaigns?cursor=nonsense")).status_code == 422
    finally:
        await browser.aclose()
