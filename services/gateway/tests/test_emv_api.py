"""Earned media value through the gateway (docs/insights.md): the rates route with its roles,
its 422s naming the field and its tenancy, and EMV on the served numbers checked against an
independent Decimal calculation, moving at once when a rate changes. A real gateway process
over PostgreSQL and RabbitMQ; the numbers arrive as a kpi.updated on the bus."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import httpx
import pytest

from pulse_contracts import make_event
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    LatestCounters,
    PostNumbers,
)
from tests.support.agency import PASSWORD, create_org
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
PATH = "/api/settings/emv-rates"


@pytest.fixture(scope="module")
def gateway(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("gateway", service_env, LOGS)
    proc.start()
    yield proc
    proc.stop()


async def _login(url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=15)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


async def _agency(gateway: ServiceProcess, env: dict[str, str], name: str) -> httpx.AsyncClient:
    email = f"owner-{uuid4().hex[:8]}@emv.agency"
    await asyncio.to_thread(create_org, env, name, email, test=True)
    client = await _login(gateway.url, email)
    client.headers["X-Test-Email"] = email  # who this is, for a browser session of theirs
    return client


@asynccontextmanager
async def _signed_in(owner: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A browser's session of the same person: cookies from the login form, the CSRF header."""
    async with httpx.AsyncClient(base_url=str(owner.base_url), timeout=15) as browser:
        email = owner.headers["X-Test-Email"]
        login = await browser.post(
            "/login", data={"email": email, "password": PASSWORD, "next": "/campaigns"}
        )
        assert login.status_code == 303, login.text
        browser.headers["X-CSRF-Token"] = browser.cookies["pulse_csrf"]
        yield browser


async def _person(owner: httpx.AsyncClient, url: str, role: str) -> httpx.AsyncClient:
    email = f"{role}-{uuid4().hex[:8]}@emv.agency"
    made = await owner.post("/api/users", json={"email": email, "role": role, "password": PASSWORD})
    assert made.status_code == 201, made.text
    return await _login(url, email)


@pytest.fixture
async def agencies(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    owner = await _agency(gateway, service_env, "Lumen Talent")
    found = {
        "owner": owner,
        "analyst": await _person(owner, gateway.url, "analyst"),
        "stranger": await _agency(gateway, service_env, "Other Agency"),
    }
    yield found
    for client in found.values():
        await client.aclose()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if result := await check():
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


def _path(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["error"]["details"][0]["path"])


async def test_rates_start_at_the_defaults_change_in_part_and_refuse_bad_numbers(
    agencies: dict[str, httpx.AsyncClient],
) -> None:
    owner, analyst, stranger = agencies["owner"], agencies["analyst"], agencies["stranger"]
    start = (await analyst.get(PATH)).json()
    assert start["currency"] == "USD"
    assert start["tiktok"] == {
        "per_1000_views": 10.0,
        "per_like": 0.15,
        "per_comment": 0.15,
        "per_share": 0.15,
        "per_save": 0.15,
    }
    # Analysts read, managers and owners change.
    assert (await analyst.put(PATH, json={"currency": "EUR"})).status_code == 403

    changed = await owner.put(PATH, json={"currency": "EUR", "tiktok": {"per_like": 0.2}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["currency"] == "EUR"
    assert changed.json()["tiktok"]["per_like"] == 0.2
    assert changed.json()["tiktok"]["per_comment"] == 0.15  # untouched: still the default
    assert (await analyst.get(PATH)).json()["tiktok"]["per_like"] == 0.2

    # Bad numbers: 422 naming the field; nothing changes.
    assert _path(await owner.put(PATH, json={"tiktok": {"per_like": -1}})) == (
        "body.tiktok.per_like"
    )
    assert _path(await owner.put(PATH, json={"youtube": {"per_save": "lots"}})) == (
        "body.youtube.per_save"
    )
    assert _path(await owner.put(PATH, json={"instagram": {"per_1000_views": None, "x": 1}})) == (
        "body.instagram.x"
    )
    assert _path(await owner.put(PATH, json={"currency": "euro"})) == "body.currency"
    assert (await owner.get(PATH)).json()["tiktok"]["per_like"] == 0.2

    # Null goes back to the default.
    back = await owner.put(PATH, json={"tiktok": {"per_like": None}})
    assert back.json()["tiktok"]["per_like"] == 0.15

    # Row-level security: another agency has its own rates, untouched by these.
    assert (await stranger.get(PATH)).json() == start
    await stranger.put(PATH, json={"instagram": {"per_like": 9}})
    assert (await owner.get(PATH)).json()["instagram"]["per_like"] == 0.25


def _oracle_cents(counters: dict[str, int | None], rates: dict[str, float]) -> int:
    """Independent: decimal strings, one sum, to the cent ROUND_HALF_UP."""
    amount = Decimal(counters.get("views") or 0) / 1000 * Decimal(str(rates["per_1000_views"]))
    for metric in ("likes", "comments", "shares", "saves"):
        rate = Decimal(str(rates["per_" + metric.removesuffix("s")]))
        amount += Decimal(counters.get(metric) or 0) * rate
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def _publish(amqp_url: str, org_id: UUID, doc: CampaignNumbers) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "pulse.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        envelope = make_event(doc, org_id=org_id, producer="test")
        await exchange.publish(
            aio_pika.Message(
                envelope.model_dump_json().encode(),
                message_id=str(envelope.event_id),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=envelope.type,
        )


async def _created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_emv_per_post_booking_and_campaign_moves_with_the_rates(
    agencies: dict[str, httpx.AsyncClient], servers: Servers
) -> None:
    owner, stranger = agencies["owner"], agencies["stranger"]
    org_id = UUID((await owner.get("/api/me")).json()["org_id"])
    brand = await _created(owner, "/api/clients", {"name": "Lumen"})
    campaign = await _created(
        owner,
        "/api/campaigns",
        {
            "client_id": brand["id"],
            "name": "Glow Launch",
            "status": "live",
            "start_date": "2026-11-01",
            "end_date": "2026-11-30",
            "currency": "EUR",
        },
    )
    creator = await _created(
        owner,
        "/api/influencers",
        {"display_name": "Ana", "handles": [{"platform": "tiktok", "handle": "ana"}]},
    )
    booking = await _created(
        owner,
        f"/api/campaigns/{campaign['id']}/bookings",
        {"influencer_id": creator["id"], "fee_cents": 150_000},
    )
    await owner.put(PATH, json={"currency": "EUR", "instagram": {"per_save": 1.005}})
    seen = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    posts = [
        ("tiktok", {"views": 123_457, "likes": 7_891, "comments": 233, "shares": 55, "saves": 9}),
        ("instagram", {"views": None, "likes": 1_203, "comments": 41, "shares": None, "saves": 7}),
    ]
    post_ids = [uuid4() for _ in posts]
    doc = CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=UUID(campaign["id"]),
            currency="EUR",
            spend_cents=150_000,
            start_date=campaign["start_date"],
            end_date=campaign["end_date"],
        ),
        bookings=[BookingNumbers(booking_id=UUID(booking["id"]), fee_cents=150_000)],
        posts=[
            PostNumbers(
                post_id=pid,
                booking_id=UUID(booking["id"]),
                platform=platform,  # type: ignore[arg-type]
                latest=LatestCounters(
                    observed_at=seen,
                    engagement=sum(v or 0 for k, v in counters.items() if k != "views"),
                    **counters,
                ),
            )
            for pid, (platform, counters) in zip(post_ids, posts, strict=True)
        ],
        as_of=seen,
    )
    await _publish(servers.amqp_url, org_id, doc)
    url = f"/api/campaigns/{campaign['id']}/emv"

    async def valued() -> dict[str, Any] | None:
        response = await owner.get(url)
        return response.json() if response.status_code == 200 and response.json() else None

    emv = await eventually(valued)
    rates = (await owner.get(PATH)).json()
    want = [_oracle_cents(c, rates[p]) for p, c in posts]
    assert [p["emv_cents"] for p in emv["posts"]] == want
    assert emv["emv_cents"] == sum(want)
    assert emv["bookings"] == [
        {"booking_id": booking["id"], "emv_cents": sum(want), "roi": emv["roi"]}
    ]
    ratio = (Decimal(sum(want)) / Decimal(150_000)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert emv["roi"] == float(ratio)
    assert emv["estimate"] is True
    assert emv["currency"] == "EUR"

    # A rate changed in Settings shows on the very next read.
    await owner.put(PATH, json={"tiktok": {"per_1000_views": 20}})
    after = (await owner.get(url)).json()
    assert after["posts"][0]["emv_cents"] == want[0] + _oracle_cents(
        {"views": 123_457}, {**rates["tiktok"], "per_1000_views": 10.0}
    )
    # Rates in another currency: EMV still shows, ROI does not (money is never converted).
    await owner.put(PATH, json={"currency": "USD"})
    assert (await owner.get(url)).json()["roi"] is None

    # The campaign page shows it, labelled an estimate, with the staff-only ROI.
    await owner.put(PATH, json={"currency": "EUR"})
    async with _signed_in(owner) as browser:
        page = await browser.get(f"/campaigns/{campaign['id']}")
        assert page.status_code == 200
        assert "EMV (estimate)" in page.text
        assert 'EMV <span class="muted">(est.)</span>' in page.text
        assert "ROI" in page.text

    # Another agency's campaign is as unknown as a made-up one.
    assert (await stranger.get(url)).status_code == 404


async def test_the_settings_form_shows_a_bad_rate_on_its_field(
    agencies: dict[str, httpx.AsyncClient],
) -> None:
    owner = agencies["owner"]
    async with _signed_in(owner) as browser:
        shown = await browser.get("/settings/emv-rates")
        assert shown.status_code == 200
        assert 'name="tiktok.per_like" type="text" inputmode="decimal" size="7" value="0.15"' in (
            shown.text
        )
        form = {"currency": "EUR", "tiktok.per_like": "-0.5", "youtube.per_save": "lots"}
        refused = await browser.post("/settings/emv-rates", data=form)
        assert refused.status_code == 422
        assert 'id="e-youtube.per_save"' in refused.text
        assert "Enter a number of at least 0" in refused.text
        # The handler's own check (a number below 0) lands on its field too.
        refused = await browser.post("/settings/emv-rates", data={**form, "youtube.per_save": ""})
        assert refused.status_code == 422
        assert 'id="e-tiktok.per_like"' in refused.text
        assert (await owner.get(PATH)).json()["tiktok"]["per_like"] == 0.15  # nothing saved
        saved = await browser.post(
            "/settings/emv-rates", data={"currency": "EUR", "tiktok.per_like": "0.3"}
        )
        assert saved.status_code == 200
        assert "EMV rates saved." in saved.text
    now = (await owner.get(PATH)).json()
    assert now["currency"] == "EUR"
    assert now["tiktok"]["per_like"] == 0.3
    assert now["tiktok"]["per_comment"] == 0.15  # an empty field is the default
