"""Dashboard forms without a browser: validation messages next to their fields, the same rules
and handlers as the API, and roles (an analyst cannot open or post a manager's form)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from tests.support.agency import PASSWORD, create_org
from tests.support.services import ROOT, ServiceProcess, peers_down

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    # No peers run: forms write the catalog, which the gateway owns.
    proc = ServiceProcess("gateway", peers_down(service_env), ROOT / "test-artifacts" / "logs")
    proc.start()
    yield proc
    proc.stop()


@dataclass
class Agency:
    owner_email: str
    api: httpx.AsyncClient  # the staff API as the owner
    client: dict[str, Any]
    campaign: dict[str, Any]


@asynccontextmanager
async def agency(gateway: ServiceProcess, service_env: dict[str, str]) -> AsyncIterator[Agency]:
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
                    "name": "Holiday Gift Sets",
                    "status": "live",
                    "start_date": (today - timedelta(days=5)).isoformat(),
                    "end_date": (today + timedelta(days=20)).isoformat(),
                    "currency": "EUR",
                },
            )
        ).json()
        yield Agency(email, api, client, campaign)


@asynccontextmanager
async def signed_in(gateway: ServiceProcess, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser's session: cookies from the login form, and htmx's headers on every request
    (the CSRF token as <body hx-headers> sends it)."""
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as browser:
        login = await browser.post(
            "/login", data={"email": email, "password": PASSWORD, "next": "/campaigns"}
        )
        assert login.status_code == 303, login.text
        browser.headers["HX-Request"] = "true"
        browser.headers["X-CSRF-Token"] = browser.cookies["pulse_csrf"]
        yield browser


async def campaign_names(browser: httpx.AsyncClient) -> list[str]:
    """The campaigns list as a person reads it (the catalog's rows; no peer runs here)."""
    page = await browser.get("/campaigns", headers={"HX-Request": ""})
    return re.findall(r'class="row-title" href="/campaigns/[^"]+">([^<]+)</a>', page.text)


def field_value(html: str, field: str) -> str | None:
    found = re.search(
        rf'id="f-{re.escape(field)}" name="{re.escape(field)}"[^>]*value="([^"]*)"', html
    )
    return found.group(1) if found else None


def field_error(html: str, field: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="e-{re.escape(field)}">(.*?)</p>', html)
    return found.group(1) if found else None


async def test_a_campaign_ending_before_it_starts_is_refused_next_to_the_end_date(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    async with agency(gateway, service_env) as a, signed_in(gateway, a.owner_email) as browser:
        form = await browser.get("/campaigns/new", headers={"HX-Request": ""})
        assert form.status_code == 200
        assert a.client["name"] in form.text  # the client is one of the choices
        answer = await browser.post(
            "/campaigns/new",
            data={
                "name": "Spring Launch",
                "client_id": a.client["id"],
                "status": "draft",
                "start_date": "2026-05-10",
                "end_date": "2026-05-01",
                "budget": "25,000.50",
                "currency": "EUR",
            },
        )
        assert answer.status_code == 200  # htmx swaps only successful answers
        assert "HX-Redirect" not in answer.headers
        assert 'id="entity-form"' in answer.text
        assert field_error(answer.text, "end_date") == (
            "The end date must be on or after the start date."
        )
        assert 'value="Spring Launch"' in answer.text  # what was typed stays
        assert await campaign_names(browser) == ["Holiday Gift Sets"]

        plain = await browser.post(
            "/campaigns/new",
            data={
                "name": "",
                "client_id": "",
                "start_date": "soon",
                "end_date": "",
                "budget": "12.345",
                "currency": "EUR",
                "committed_views": "lots",
            },
            headers={"HX-Request": ""},
        )
        assert plain.status_code == 422  # without htmx: the whole page, as a 422
        assert "<html" in plain.text
        assert field_error(plain.text, "name") == "This is required."
        assert field_error(plain.text, "client_id") == "This is required."
        assert field_error(plain.text, "start_date") == "Enter a valid date."
        assert field_error(plain.text, "budget") == "Use at most two decimals."
        assert field_error(plain.text, "committed_views") == "Enter a whole number, like 250000."

        created = await browser.post(
            "/campaigns/new",
            data={
                "name": "Spring Launch",
                "client_id": a.client["id"],
                "status": "draft",
                "start_date": "2026-05-01",
                "end_date": "2026-05-31",
                "budget": "25,000.50",
                "currency": "EUR",
                "committed_views": "2,500,000",
            },
        )
        assert created.status_code == 200
        location = created.headers["HX-Redirect"]
        campaign_id = location.removeprefix("/campaigns/")
        saved = (
            await browser.get(f"/campaigns/{campaign_id}/edit", headers={"HX-Request": ""})
        ).text
        assert field_value(saved, "name") == "Spring Launch"
        assert field_value(saved, "budget") == "25000.50"  # stored as 2,500,050 cents
        assert field_value(saved, "committed_views") == "2500000"
        assert sorted(await campaign_names(browser)) == ["Holiday Gift Sets", "Spring Launch"]


async def test_clients_influencers_and_bookings_through_their_forms(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    async with agency(gateway, service_env) as a, signed_in(gateway, a.owner_email) as browser:
        bad = await browser.post(
            "/clients/new", data={"name": "Aurora", "brand_color": "blue", "logo_url": "http://x"}
        )
        assert field_error(bad.text, "brand_color") == "Use a hex colour like #4F46E5."
        assert field_error(bad.text, "logo_url") == "Use an address starting with https://."
        good = await browser.post("/clients/new", data={"name": "Aurora", "brand_color": "#aa3366"})
        assert good.headers["HX-Redirect"] == "/clients"
        clients = (await a.api.get("/api/clients")).json()["items"]
        assert {c["name"]: c["brand_color"] for c in clients}["Aurora"] == "#AA3366"

        twice = await browser.post(
            "/influencers/new",
            data={
                "display_name": "Mia Laurent",
                "tier": "macro",
                "handle_platform": ["tiktok", "tiktok", "instagram"],
                "handle_name": ["@mia", "MIA", "mia.laurent"],
                "handle_followers": ["1,200,000", "", "many"],
            },
        )
        assert "is listed twice" in twice.text
        assert 'id="fe-2"' in twice.text  # the bad follower count, on its own row
        made = await browser.post(
            "/influencers/new",
            data={
                "display_name": "Mia Laurent",
                "handle_platform": ["tiktok", "instagram", "youtube"],
                "handle_name": ["@mia", "mia.laurent", ""],
                "handle_followers": ["1,200,000", "", ""],
            },
        )
        influencer_id = made.headers["HX-Redirect"].removeprefix("/influencers/")
        detail = (await a.api.get(f"/api/influencers/{influencer_id}")).json()
        assert {(h["platform"], h["handle"], h["followers"]) for h in detail["handles"]} == {
            ("tiktok", "mia", 1_200_000),
            ("instagram", "mia.laurent", None),
        }

        campaign_id = a.campaign["id"]
        refused = await browser.post(
            f"/campaigns/{campaign_id}/bookings/new",
            data={"influencer_id": influencer_id, "fee": "", "min_engagement_rate": "150"},
        )
        assert field_error(refused.text, "fee") == "Enter the fee (0 for a gifted collaboration)."
        assert field_error(refused.text, "min_engagement_rate") == "Enter 100 or less."
        booked = await browser.post(
            f"/campaigns/{campaign_id}/bookings/new",
            data={
                "influencer_id": influencer_id,
                "fee": "4,500.50",
                "committed_posts": "2",
                "min_engagement_rate": "3.5",
                "exclusivity_days": "30",
            },
        )
        assert booked.headers["HX-Redirect"] == f"/campaigns/{campaign_id}"
        grid = (await browser.get(f"/campaigns/{campaign_id}", headers={"HX-Request": ""})).text
        [booking_id] = re.findall(r'data-booking-id="([^"]+)"', grid)
        booking = {"id": booking_id}
        terms = (await browser.get(f"/bookings/{booking_id}/edit", headers={"HX-Request": ""})).text
        assert field_value(terms, "fee") == "4500.50"  # 450,050 cents
        assert field_value(terms, "min_engagement_rate") == "3.5"
        assert field_value(terms, "exclusivity_days") == "30"
        assert field_value(terms, "usage_rights_days") == ""

        parsed = await browser.get(
            f"/bookings/{booking['id']}/posts/parse",
            params={"url": "https://www.tiktok.com/@mia/video/7301234567890123456?lang=en"},
        )
        assert "TikTok" in parsed.text
        assert "7301234567890123456" in parsed.text
        not_a_post = await browser.post(
            f"/bookings/{booking['id']}/posts/new", data={"url": "https://example.com/hello"}
        )
        assert field_error(not_a_post.text, "url")
        added = await browser.post(
            f"/bookings/{booking['id']}/posts/new",
            data={"url": "https://www.tiktok.com/@mia/video/7301234567890123456"},
        )
        assert added.headers["HX-Redirect"] == f"/campaigns/{campaign_id}"
        again = await browser.post(
            f"/bookings/{booking['id']}/posts/new",
            data={"url": "https://www.tiktok.com/@mia/video/7301234567890123456"},
        )
        assert "already tracked on this booking" in (field_error(again.text, "url") or "")
        tracked = (
            await browser.get(f"/bookings/{booking_id}/edit", headers={"HX-Request": ""})
        ).text
        assert len(re.findall(r"data-post-id=", tracked)) == 1
        assert "https://www.tiktok.com/@mia/video/7301234567890123456" in tracked


async def test_an_analyst_reads_but_cannot_open_or_post_a_managers_form(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    async with agency(gateway, service_env) as a:
        analyst = f"analyst-{uuid4().hex[:8]}@northwind.agency"
        made = await a.api.post(
            "/api/users", json={"email": analyst, "role": "analyst", "password": PASSWORD}
        )
        assert made.status_code == 201
        async with signed_in(gateway, analyst) as browser:
            listing = await browser.get("/campaigns", headers={"HX-Request": ""})
            assert listing.status_code == 200
            assert 'href="/campaigns/new"' not in listing.text  # no action they cannot take
            for path in (
                "/campaigns/new",
                f"/campaigns/{a.campaign['id']}/edit",
                "/clients/new",
                "/influencers/new",
                "/settings/users",
                "/settings/tokens",
            ):
                page = await browser.get(path, headers={"HX-Request": ""})
                assert page.status_code == 403, path
                assert "Not allowed" in page.text
            posted = await browser.post(
                "/campaigns/new",
                data={
                    "name": "Sneaky",
                    "client_id": a.client["id"],
                    "start_date": "2026-05-01",
                    "end_date": "2026-05-31",
                    "currency": "EUR",
                },
            )
            assert posted.status_code == 403
            thresholds = await browser.get("/settings/alerts", headers={"HX-Request": ""})
            assert thresholds.status_code == 200
            assert "a manager or owner changes them" in thresholds.text
            assert (await browser.post("/settings/alerts", data={})).status_code == 403
        async with signed_in(gateway, a.owner_email) as owner:
            assert await campaign_names(owner) == ["Holiday Gift Sets"]


async def test_forms_need_the_pages_csrf_token(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    async with agency(gateway, service_env) as a, signed_in(gateway, a.owner_email) as browser:
        forged = await browser.post(
            "/clients/new", data={"name": "Forged"}, headers={"X-CSRF-Token": "forged"}
        )
        assert forged.status_code == 403
        names = [c["name"] for c in (await a.api.get("/api/clients")).json()["items"]]
        assert "Forged" not in names


async def test_owners_manage_people_and_tokens_with_secrets_shown_once(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    async with agency(gateway, service_env) as a, signed_in(gateway, a.owner_email) as browser:
        short = await browser.post(
            "/settings/users/new",
            data={"email": "not-an-email", "role": "manager", "password": "short"},
        )
        assert field_error(short.text, "email") == "Enter a valid email address."
        assert field_error(short.text, "password") == "Use at least 12 characters."
        colleague = f"manager-{uuid4().hex[:8]}@northwind.agency"
        added = await browser.post(
            "/settings/users/new", data={"email": colleague, "name": "Sam", "role": "manager"}
        )
        assert f"{colleague} can now sign in as manager." in added.text
        users = (await a.api.get("/api/users")).json()["items"]
        sam = next(u for u in users if u["email"] == colleague)
        await browser.post(f"/settings/users/{sam['id']}", data={"role": "analyst"})
        await browser.post(f"/settings/users/{sam['id']}", data={"disabled": "true"})
        users = (await a.api.get("/api/users")).json()["items"]
        sam = next(u for u in users if u["email"] == colleague)
        assert (sam["role"], sam["disabled"]) == ("analyst", True)
        owner = next(u for u in users if u["email"] == a.owner_email)
        alone = await browser.post(f"/settings/users/{owner['id']}", data={"role": "manager"})
        assert "at least one active owner" in alone.text

        no_scope = await browser.post("/settings/tokens/new", data={"name": "n8n"})
        assert "Tick at least one scope." in no_scope.text
        made = await browser.post(
            "/settings/tokens/new", data={"name": "n8n production", "scopes": ["read"]}
        )
        secret = re.search(r'<code id="created-secret">(\S+)</code>', made.text)
        assert secret is not None
        async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as machine:
            machine.headers["Authorization"] = f"Bearer {secret.group(1)}"
            assert (await machine.get("/api/clients")).status_code == 200
            listing = await browser.get("/settings/tokens", headers={"HX-Request": ""})
            assert secret.group(1) not in listing.text  # never shown again
            token_id = re.search(r'data-token-id="([^"]+)"', listing.text)
            assert token_id is not None
            await browser.post(f"/settings/tokens/{token_id.group(1)}/revoke")
            assert (await machine.get("/api/clients")).status_code == 401


async def test_screens_still_answer_when_the_peers_are_down(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    """Only the gateway runs here: each screen says which service is missing instead of
    breaking, and the architecture page shows exactly who is down."""
    async with agency(gateway, service_env) as a, signed_in(gateway, a.owner_email) as browser:
        made = await a.api.post(
            "/api/influencers",
            json={
                "display_name": "Mia Laurent",
                "handles": [{"platform": "tiktok", "handle": "mia", "followers": 1200}],
            },
        )
        influencer = made.json()
        plain = {"HX-Request": ""}
        listing = await browser.get("/influencers", headers=plain)
        assert listing.status_code == 200
        assert "Mia Laurent" in listing.text
        assert "@mia" in listing.text
        found = await browser.get(
            "/influencers",
            params={"q": "nobody"},
            headers={"HX-Request": "true", "HX-Target": "influencer-list"},
        )
        assert found.text.lstrip().startswith('<div id="influencer-list"')
        assert "No influencer matches" in found.text
        # Filters by platform and audience size, kept in the URL.
        on_tiktok = await browser.get("/influencers", params={"platform": "tiktok"}, headers=plain)
        assert "Mia Laurent" in on_tiktok.text
        for params in ({"platform": "youtube"}, {"platform": "tiktok", "followers": "10k"}):
            narrowed = await browser.get("/influencers", params=params, headers=plain)
            assert narrowed.status_code == 200
            assert "Mia Laurent" not in narrowed.text, params
        detail = await browser.get(f"/influencers/{influencer['id']}", headers=plain)
        assert detail.status_code == 200
        assert "1,200" in detail.text
        alerts = await browser.get("/alerts", headers=plain)
        assert alerts.status_code == 200
        assert "alerter service is unavailable" in alerts.text
        architecture = await browser.get("/docs/architecture", headers=plain)
        assert architecture.status_code == 200
        ready = dict(re.findall(r'data-service="(\w+)" data-ready="(\w+)"', architecture.text))
        assert ready == {
            "gateway": "yes",
            "ingest": "no",
            "aggregator": "no",
            "alerter": "no",
            "share": "no",
            "reporter": "no",
        }
        assert 'data-event="kpi.updated"' in architecture.text
        live = await browser.get("/docs/architecture/live")
        assert live.text.lstrip().startswith('<div id="arch-live"')
        assert 'hx-trigger="every 5s"' in live.text
        notifications = await browser.get("/settings/notifications", headers=plain)
        assert notifications.status_code == 200
        assert "alerter service is unavailable" in notifications.text


async def test_the_booking_form_offers_every_creator_and_always_the_bookings_own(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    """The creator menu held the 500 creators added last: on an agency with more, editing an
    older creator's booking showed no option that was its creator."""
    async with agency(gateway, service_env) as a, signed_in(gateway, a.owner_email) as browser:
        aria = (await a.api.post("/api/influencers", json={"display_name": "Aria Old"})).json()
        booking = await a.api.post(
            f"/api/campaigns/{a.campaign['id']}/bookings",
            json={"influencer_id": aria["id"], "fee_cents": 1000},
        )
        assert booking.status_code == 201, booking.text
        db = await asyncpg.connect(service_env["PULSE_DATABASE_URL"])
        try:
            org_id = await db.fetchval(
                "SELECT org_id FROM catalog.influencers WHERE id = $1", UUID(aria["id"])
            )
            await db.executemany(
                "INSERT INTO catalog.influencers (id, org_id, display_name, created_at)"
                " VALUES ($1, $2, $3, now() + interval '1 minute')",
                [(uuid4(), org_id, f"Zed {n:03d}") for n in range(600)],
            )
        finally:
            await db.close()

        def offered(html: str) -> list[tuple[str, bool]]:
            menu = html[html.index('name="influencer_id"') : html.index("</select>")]
            return [
                (text, bool(selected))
                for selected, text in re.findall(
                    r'<option value="[^"]+"( selected)?>([^<]+)<', menu
                )
            ]

        edit = await browser.get(
            f"/bookings/{booking.json()['id']}/edit", headers={"HX-Request": ""}
        )
        assert ("Aria Old", True) in offered(edit.text)
        new = await browser.get(
            f"/campaigns/{a.campaign['id']}/bookings/new", headers={"HX-Request": ""}
        )
        names = [text for text, _ in offered(new.text)]
        assert names == ["Aria Old", *(f"Zed {n:03d}" for n in range(600))]
