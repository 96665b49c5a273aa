"""Benchmark sets end to end: created through the gateway, pulled by ingest from the fake
ScrapeCreators process in the background, and compared with a campaign's creators; checked
against an independent calculation (docs/insights.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from tests.oracle.tags_oracle import latest_samples
from tests.support.agency import PASSWORD
from tests.support.agency import create_org as _create_org
from tests.support.catalog import catalog_events, wait_for, write_catalog
from tests.support.scenario import Bus, Scenario, build_scenario
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess, fake_provider_process

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
ACCOUNTS = [
    {"platform": "tiktok", "handle": "@Lumen.Beauty"},
    {"platform": "instagram", "handle": "glow.co"},
    {"platform": "tiktok", "handle": "northwind_studio"},
    {"platform": "instagram", "handle": "unknown_brand"},
]


@pytest.fixture(scope="module")
def procs(service_env: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    with ExitStack() as stack:
        fake_url, _ = stack.enter_context(fake_provider_process(LOGS))
        ingest_env = {
            **service_env,
            "PULSE_INGEST_SCRAPECREATORS_BASE_URL": fake_url,
            "PULSE_INGEST_SCRAPECREATORS_API_KEY": "test-dummy-key",
            "PULSE_INGEST_BENCHMARK_POLL_S": "0.5",
            "PULSE_INGEST_SCHEDULER_INTERVAL_S": "3600",
        }
        peers = {
            "ingest": ServiceProcess("ingest", ingest_env, LOGS),
            "aggregator": ServiceProcess("aggregator", service_env, LOGS),
        }
        gateway_env = {
            **service_env,
            "PULSE_GATEWAY_AGGREGATOR_URL": peers["aggregator"].url,
            "PULSE_GATEWAY_ALERTER_URL": peers["aggregator"].url,
            "PULSE_GATEWAY_INGEST_URL": peers["ingest"].url,
        }
        started = {**peers, "gateway": ServiceProcess("gateway", gateway_env, LOGS)}
        try:
            with ThreadPoolExecutor(len(started)) as pool:
                for future in [pool.submit(p.start) for p in started.values()]:
                    future.result()
            yield started
        finally:
            for proc in started.values():
                proc.stop()


@dataclass
class World:
    owner: httpx.AsyncClient
    stranger: httpx.AsyncClient
    scenario: Scenario
    set_id: str
    names: list[str]
    gateway: str = ""
    email: str = ""
    database_url: str = ""


async def _login(base_url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=15)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


@pytest.fixture(scope="module")
async def world(
    procs: dict[str, ServiceProcess], service_env: dict[str, str], servers: Servers
) -> AsyncIterator[World]:
    gateway = procs["gateway"].url
    email, other = (f"{who}-{uuid4().hex[:8]}@northwind.agency" for who in ("owner", "other"))
    ids = await asyncio.to_thread(_create_org, service_env, "Northwind Talent", email)
    await asyncio.to_thread(_create_org, service_env, "Southwind", other, test=True)
    org_id = UUID(ids["org_id"])
    owner, stranger = await _login(gateway, email), await _login(gateway, other)

    scenario = build_scenario(utcnow(), seed=71, raw_fixture=False)
    scenario.org_id = org_id
    names = ["Maya Styles", "Leo Brandt", "Ana Sol"]
    conn = await asyncpg.connect(servers.database_url)
    try:
        await write_catalog(conn, scenario, names)
    finally:
        await conn.close()
    created = await owner.post("/api/tokens", json={"name": "n8n", "scopes": ["ingest"]})
    token = created.json()["token"]
    async with Bus(service_env["PULSE_AMQP_URL"]) as bus:
        for event in catalog_events(scenario):
            await bus.publish_event(org_id, event)
    conn = await asyncpg.connect(servers.database_url)
    try:

        async def ingest_knows() -> bool | None:
            tracked = await conn.fetchval(
                "SELECT count(*) FROM ingest.tracked_posts WHERE org_id = $1", org_id
            )
            tokens = await conn.fetchval(
                "SELECT count(*) FROM ingest.api_tokens WHERE org_id = $1", org_id
            )
            return True if tracked == len(scenario.posts) and tokens == 1 else None

        await wait_for(ingest_knows, 20, "ingest to learn the catalog")
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=procs["ingest"].url, timeout=30) as http:
        sent = await http.post(
            "/api/ingest/posts",
            json={"items": scenario.items},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 200, sent.text

    made = await owner.post(
        "/api/benchmark-sets", json={"name": "Skincare rivals", "accounts": ACCOUNTS}
    )
    assert made.status_code == 201, made.text
    set_id = made.json()["id"]

    async def all_pulled() -> bool | None:
        got = await owner.get(f"/api/benchmark-sets/{set_id}")
        statuses = [a["status"] for a in got.json()["accounts"]]
        return True if got.status_code == 200 and "pending" not in statuses else None

    await wait_for(all_pulled, 30, "ingest to pull the set's accounts", step=0.3)

    async def numbers_in() -> bool | None:
        got = await owner.get(f"/api/campaigns/{scenario.campaign['id']}")
        kpis = got.json().get("kpis") if got.status_code == 200 else None
        return True if kpis and kpis.get("actual_posts") == len(scenario.posts) else None

    await wait_for(numbers_in, 30, "the campaign's numbers", step=0.3)
    yield World(owner, stranger, scenario, set_id, names, gateway, email, servers.database_url)
    await owner.aclose()
    await stranger.aclose()


def _round(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _dec(value: float | int) -> Decimal:
    return Decimal(str(value))


def _percentile(values: list[Decimal], p: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = Decimal(p) / 100 * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return _round(ordered[below] + (ordered[above] - ordered[below]) * (position - below))


def _rank(values: list[Decimal], x: Decimal) -> float | None:
    if not values:
        return None
    return _round(
        Decimal(100)
        * (sum(v < x for v in values) + Decimal(sum(v == x for v in values)) / 2)
        / len(values)
    )


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    s = sorted(values)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


async def test_the_set_is_pulled_in_the_background_with_a_status_per_account(world: World) -> None:
    got = (await world.owner.get(f"/api/benchmark-sets/{world.set_id}")).json()
    by_handle = {a["handle"]: a for a in got["accounts"]}
    assert set(by_handle) == {"Lumen.Beauty", "glow.co", "northwind_studio", "unknown_brand"}
    assert by_handle["unknown_brand"]["status"] == "unknown_handle"
    for handle in ("Lumen.Beauty", "glow.co", "northwind_studio"):
        account = by_handle[handle]
        assert account["status"] == "ok", account
        assert account["posts_30d"] > 0
        assert account["median_views"] > 0
    listed = (await world.owner.get("/api/benchmark-sets")).json()["items"]
    assert [(s["name"], s["accounts"]) for s in listed] == [("Skincare rivals", 4)]


async def test_creators_stand_beside_the_set_percentile_by_percentile(world: World) -> None:
    cid = str(world.scenario.campaign["id"])
    got = await world.owner.get(f"/api/benchmarks/{world.set_id}", params={"campaign_id": cid})
    assert got.status_code == 200, got.text
    body = got.json()
    ok = [a for a in body["accounts"] if a["status"] == "ok"]
    for metric in ("median_views", "median_engagement_rate", "posts_per_week"):
        values = [_dec(a[metric]) for a in ok if a[metric] is not None]
        want = {f"p{p}": _percentile(values, p) for p in (10, 25, 50, 75, 90)}
        assert {k: body["percentiles"][metric][k] for k in want} == want, metric
        assert body["percentiles"][metric]["accounts"] == len(values)

    # The set's hashtags and mentions from its accounts' recent captions, top by views.
    for kind in ("hashtags", "mentions"):
        tags = body["tags"][kind]
        assert tags, kind
        assert [t["views"] for t in tags] == sorted((t["views"] for t in tags), reverse=True)

    latest = latest_samples(world.scenario.samples)
    views_set = [_dec(a["median_views"]) for a in ok]
    rates_set = [_dec(a["median_engagement_rate"]) for a in ok]
    creators = {c["name"]: c for c in body["creators"]}
    assert set(creators) == set(world.names)
    for booking, name in zip(world.scenario.bookings, world.names, strict=True):
        posts = [p for p in world.scenario.posts if p["booking_id"] == booking["id"]]
        views = [Decimal(latest[p["id"]]["views"]) for p in posts if p["id"] in latest]
        rates = [
            Decimal(
                100 * sum(latest[p["id"]][k] or 0 for k in ("likes", "comments", "shares", "saves"))
            )
            / Decimal(latest[p["id"]]["views"])
            for p in posts
            if p["id"] in latest and latest[p["id"]]["views"]
        ]
        median_views, median_rate = _median(views), _median(rates)
        figures = creators[name]["figures"]
        assert figures["median_views"] == (
            _round(median_views) if median_views is not None else None
        )
        assert figures["median_engagement_rate"] == (
            _round(median_rate) if median_rate is not None else None
        )
        ranks = creators[name]["percentile_in_set"]
        assert ranks["median_views"] == _rank(views_set, _dec(figures["median_views"]))
        assert ranks["median_engagement_rate"] == _rank(
            rates_set, _dec(figures["median_engagement_rate"])
        )
        assert ranks["posts_per_week"] is None  # not a campaign figure


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"name": "x", "accounts": [{"platform": "youtube", "handle": "a"}]},
            "body.accounts.0.platform",
        ),
        (
            {"name": "x", "accounts": [{"platform": "tiktok", "handle": "two words"}]},
            "body.accounts.0.handle",
        ),
        ({"name": "", "accounts": []}, "body.name"),
        (
            {
                "name": "x",
                "accounts": [
                    {"platform": "tiktok", "handle": "a"},
                    {"platform": "tiktok", "handle": "@A"},
                ],
            },
            "body.accounts",
        ),
    ],
)
async def test_bad_sets_are_a_422_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    got = await world.owner.post("/api/benchmark-sets", json=body)
    assert got.status_code == 422, got.text
    assert got.json()["error"]["details"][0]["path"] == field


async def test_unknown_campaigns_and_other_agencies_sets(world: World) -> None:
    bad = await world.owner.get(f"/api/benchmarks/{world.set_id}", params={"campaign_id": "nope"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["path"] == "campaign_id"
    unknown = await world.owner.get(
        f"/api/benchmarks/{world.set_id}", params={"campaign_id": str(uuid4())}
    )
    assert unknown.status_code == 422
    theirs = await world.stranger.get(f"/api/benchmarks/{world.set_id}")
    assert theirs.status_code == 404
    assert (await world.stranger.get(f"/api/benchmark-sets/{world.set_id}")).status_code == 404


async def test_adding_and_removing_an_account(world: World) -> None:
    added = await world.owner.post(
        f"/api/benchmark-sets/{world.set_id}/accounts",
        json={"platform": "instagram", "handle": "private_house"},
    )
    assert added.status_code == 201, added.text
    again = await world.owner.post(
        f"/api/benchmark-sets/{world.set_id}/accounts",
        json={"platform": "instagram", "handle": "PRIVATE_HOUSE"},
    )
    assert again.status_code == 409

    async def private() -> bool | None:
        got = (await world.owner.get(f"/api/benchmark-sets/{world.set_id}")).json()
        status = {a["handle"]: a["status"] for a in got["accounts"]}.get("private_house")
        return True if status == "private" else None

    await wait_for(private, 20, "the private account's pull", step=0.3)
    gone = await world.owner.delete(
        f"/api/benchmark-sets/{world.set_id}/accounts/{added.json()['id']}"
    )
    assert gone.status_code == 204
    got = (await world.owner.get(f"/api/benchmark-sets/{world.set_id}")).json()
    assert "private_house" not in {a["handle"] for a in got["accounts"]}


async def _ingest_account(world: World, account_id: str) -> asyncpg.Record | None:
    conn = await asyncpg.connect(world.database_url)
    try:
        return await conn.fetchrow(
            "SELECT removed_at, status FROM ingest.benchmark_accounts WHERE id = $1",
            UUID(account_id),
        )
    finally:
        await conn.close()


async def _removed_in_ingest(world: World, account_id: str) -> None:
    async def removed() -> bool | None:
        row = await _ingest_account(world, account_id)
        return True if row is not None and row["removed_at"] is not None else None

    await wait_for(removed, 20, "ingest to stop pulling the account", step=0.3)


async def test_renaming_and_deleting_a_set_and_its_accounts_stop_their_pulls(world: World) -> None:
    made = await world.owner.post(
        "/api/benchmark-sets",
        json={
            "name": "Spring shortlist",
            "accounts": [{"platform": "tiktok", "handle": "glowrival"}],
        },
    )
    assert made.status_code == 201, made.text
    set_id, account_id = made.json()["id"], made.json()["accounts"][0]["id"]

    renamed = await world.owner.patch(f"/api/benchmark-sets/{set_id}", json={"name": "Autumn"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Autumn"
    listed = (await world.owner.get("/api/benchmark-sets")).json()["items"]
    assert "Autumn" in {s["name"] for s in listed}
    for bad in ({"name": ""}, {"name": "x" * 201}, {}):
        refused = await world.owner.patch(f"/api/benchmark-sets/{set_id}", json=bad)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"][0]["path"] == "body.name"

    # Another organization's set is not there for them: 404, never 403, and nothing changes.
    for call in (
        world.stranger.patch(f"/api/benchmark-sets/{set_id}", json={"name": "Theirs"}),
        world.stranger.delete(f"/api/benchmark-sets/{set_id}"),
        world.stranger.delete(f"/api/benchmark-sets/{set_id}/accounts/{account_id}"),
    ):
        assert (await call).status_code == 404
    still = (await world.owner.get(f"/api/benchmark-sets/{set_id}")).json()
    assert still["name"] == "Autumn"
    assert [a["id"] for a in still["accounts"]] == [account_id]

    async def known() -> bool | None:
        return True if await _ingest_account(world, account_id) is not None else None

    await wait_for(known, 20, "ingest to learn the account", step=0.3)
    gone = await world.owner.delete(f"/api/benchmark-sets/{set_id}")
    assert gone.status_code == 204
    assert (await world.owner.get(f"/api/benchmark-sets/{set_id}")).status_code == 404
    assert (await world.owner.delete(f"/api/benchmark-sets/{set_id}")).status_code == 404
    assert set_id not in {
        s["id"] for s in (await world.owner.get("/api/benchmark-sets")).json()["items"]
    }
    await _removed_in_ingest(world, account_id)


async def test_the_set_page_adds_removes_renames_and_deletes(world: World) -> None:
    made = await world.owner.post("/api/benchmark-sets", json={"name": "Page shortlist"})
    set_id = made.json()["id"]
    async with httpx.AsyncClient(base_url=world.gateway, timeout=15) as browser:
        login = await browser.post(
            "/login", data={"email": world.email, "password": PASSWORD, "next": "/benchmarks"}
        )
        assert login.status_code == 303, login.text
        browser.headers["HX-Request"] = "true"  # as htmx sends every form, with the CSRF token
        browser.headers["X-CSRF-Token"] = browser.cookies["pulse_csrf"]

        page = await browser.get(f"/benchmarks/{set_id}")
        assert page.status_code == 200
        assert 'id="benchmark-account-form"' in page.text
        assert 'id="benchmark-rename-form"' in page.text
        assert "Delete this set" in page.text

        empty = await browser.post(
            f"/benchmarks/{set_id}/accounts", data={"platform": "tiktok", "handle": ""}
        )
        assert 'id="e-handle"' in empty.text
        wrong = await browser.post(
            f"/benchmarks/{set_id}/accounts", data={"platform": "youtube", "handle": "someone"}
        )
        assert 'id="e-platform"' in wrong.text
        added = await browser.post(
            f"/benchmarks/{set_id}/accounts",
            data={"platform": "instagram", "handle": "@velvetskin"},
        )
        assert added.headers.get("HX-Redirect") == f"/benchmarks/{set_id}", added.text
        twice = await browser.post(
            f"/benchmarks/{set_id}/accounts", data={"platform": "instagram", "handle": "VelvetSkin"}
        )
        assert 'id="e-handle"' in twice.text
        assert "already holds" in twice.text
        held = (await world.owner.get(f"/api/benchmark-sets/{set_id}")).json()["accounts"]
        assert [(a["platform"], a["handle"]) for a in held] == [("instagram", "velvetskin")]
        account_id = held[0]["id"]

        page = await browser.get(f"/benchmarks/{set_id}")
        assert f"/benchmarks/{set_id}/accounts/{account_id}/remove" in page.text
        assert "hx-confirm=" in page.text

        blank = await browser.post(f"/benchmarks/{set_id}/rename", data={"name": "  "})
        assert 'id="e-name"' in blank.text
        renamed = await browser.post(f"/benchmarks/{set_id}/rename", data={"name": "Shortlist B"})
        assert renamed.headers.get("HX-Redirect") == f"/benchmarks/{set_id}"
        assert "<h1>Shortlist B</h1>" in (await browser.get(f"/benchmarks/{set_id}")).text

        removed = await browser.post(f"/benchmarks/{set_id}/accounts/{account_id}/remove")
        assert removed.headers.get("HX-Redirect") == f"/benchmarks/{set_id}"
        assert (await world.owner.get(f"/api/benchmark-sets/{set_id}")).json()["accounts"] == []
        again = await browser.post(f"/benchmarks/{set_id}/accounts/{account_id}/remove")
        assert again.status_code == 404
        await _removed_in_ingest(world, account_id)

        deleted = await browser.post(f"/benchmarks/{set_id}/delete")
        assert deleted.headers.get("HX-Redirect") == "/benchmarks"
        assert (await browser.get(f"/benchmarks/{set_id}")).status_code == 404
        assert "Shortlist B" not in (await browser.get("/benchmarks")).text
