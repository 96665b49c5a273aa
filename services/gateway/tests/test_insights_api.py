"""GET /api/hashtags and the campaign page's hashtag tables end to end: captions from a raw
provider body through ingest's normalizer and from post.pulled facts, rolled up by the
aggregator, read through the gateway; checked against an independent calculation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from pulse_contracts.posts import PostFacts, PostPulled, Sample
from tests.oracle.tags_oracle import oracle_tags
from tests.support.agency import PASSWORD
from tests.support.agency import create_org as _create_org
from tests.support.catalog import catalog_events, wait_for, write_catalog
from tests.support.scenario import Bus, Scenario, build_scenario, fixtures_dir
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"

# What the crafted TikTok fixture's caption was written with (read by a person, not parsed).
FIXTURE_TAGS = ({"ootd", "linen", "travelstyle"}, {"lisbonlinen"})
CAPTIONS = [
    (
        "Glow week 1 ✨ #GlowUp #Skincare! with @Maya.Styles.",
        {"glowup", "skincare"},
        {"maya.styles"},
    ),
    ("#glowup #GLOWUP #ad — thanks @lumen_beauty", {"glowup", "ad"}, {"lumen_beauty"}),
    ("Routine #สวัสดี #Skincare, mail hello@lumen.example", {"สวัสดี", "skincare"}, set()),
    ("No tags here, step #1", set(), set()),
    ("＃ＧＬＯＷＵＰ ＠ＬＵＭＥＮ_ＢＥＡＵＴＹ", {"glowup"}, {"lumen_beauty"}),
]


@pytest.fixture(scope="module")
def procs(service_env: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    peers = {
        name: ServiceProcess(name, service_env, LOGS)
        for name in ("ingest", "aggregator", "alerter")
    }
    gateway_env = {
        **service_env,
        "PULSE_GATEWAY_AGGREGATOR_URL": peers["aggregator"].url,
        "PULSE_GATEWAY_ALERTER_URL": peers["alerter"].url,
        "PULSE_GATEWAY_INGEST_URL": peers["ingest"].url,
    }
    started = {**peers, "gateway": ServiceProcess("gateway", gateway_env, LOGS)}
    try:
        with ThreadPoolExecutor(len(started)) as pool:
            for future in [pool.submit(proc.start) for proc in started.values()]:
                future.result()
        yield started
    finally:
        for proc in started.values():
            proc.stop()


@dataclass
class World:
    gateway: str
    owner: httpx.AsyncClient
    stranger: httpx.AsyncClient
    scenario: Scenario
    stranger_campaign: UUID
    tags_of: dict[UUID, tuple[set[str], set[str]]]
    posted_day: dict[UUID, date | None]
    email: str


async def _login(base_url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=15)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


async def _org(service_env: dict[str, str], name: str) -> tuple[UUID, str]:
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    ids = await asyncio.to_thread(_create_org, service_env, name, email, test=True)
    return UUID(ids["org_id"]), email


@pytest.fixture(scope="module")
async def world(
    procs: dict[str, ServiceProcess], service_env: dict[str, str], servers: Servers
) -> AsyncIterator[World]:
    gateway = procs["gateway"].url
    org_id, email = await _org(service_env, "Northwind Talent")
    stranger_org, stranger_email = await _org(service_env, "Southwind Media")
    now = utcnow()
    scenario = build_scenario(now, seed=61)  # its raw TikTok body carries the fixture caption
    other = build_scenario(now, seed=62, raw_fixture=False)
    scenario.org_id, other.org_id = org_id, stranger_org
    conn = await asyncpg.connect(servers.database_url)
    try:
        await write_catalog(conn, scenario, ["Maya", "Leo", "Ana"])
        await write_catalog(conn, other, ["Kai", "Zoë", "Ida"])
    finally:
        await conn.close()
    owner = await _login(gateway, email)
    created = await owner.post("/api/tokens", json={"name": "n8n", "scopes": ["ingest"]})
    assert created.status_code == 201, created.text
    token = created.json()["token"]

    raw = json.loads((fixtures_dir() / "tiktok_video.json").read_text())
    raw_post = next(
        p for p in scenario.posts if p["platform_post_id"] == raw["aweme_detail"]["aweme_id"]
    )
    tags_of = {raw_post["id"]: FIXTURE_TAGS}
    posted_day: dict[UUID, date | None] = {
        raw_post["id"]: datetime.fromtimestamp(raw["aweme_detail"]["create_time"], UTC).date()
    }
    facts, samples = [], []
    others = [p for p in scenario.posts if p is not raw_post]
    for i, post in enumerate(others):
        caption, hashtags, mentions = CAPTIONS[i % len(CAPTIONS)]
        when = now - timedelta(days=i % 3)
        facts.append(PostFacts(post_id=post["id"], caption=caption, posted_at=when))
        tags_of[post["id"]] = (hashtags, mentions)
        posted_day[post["id"]] = when.date()
        first = min(
            (s for s in scenario.samples if s["post_id"] == post["id"]),
            key=lambda s: s["observed_at"],
        )
        samples.append(
            Sample(
                post_id=post["id"],
                booking_id=post["booking_id"],
                campaign_id=post["campaign_id"],
                platform=post["platform"],
                source="amqp",
                **{
                    k: first[k]
                    for k in (
                        "observed_at",
                        "views",
                        "likes",
                        "comments",
                        "shares",
                        "saves",
                        "reach",
                    )
                },
            )
        )

    async with Bus(service_env["PULSE_AMQP_URL"]) as bus:
        for event in catalog_events(scenario):
            await bus.publish_event(org_id, event)
        for event in catalog_events(other):
            await bus.publish_event(stranger_org, event)

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

            await wait_for(ingest_knows, 20, "ingest to learn the catalog and the token")
        finally:
            await conn.close()
        async with httpx.AsyncClient(base_url=procs["ingest"].url, timeout=30) as http:
            response = await http.post(
                "/api/ingest/posts",
                json={"items": scenario.items},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["rejected"] == [], response.text
        await bus.publish_event(org_id, PostPulled(samples=samples, posts=facts))

    found = World(
        gateway,
        owner,
        await _login(gateway, stranger_email),
        scenario,
        other.campaign["id"],
        tags_of,
        posted_day,
        email,
    )

    async def rolled_up() -> bool | None:
        got = await owner.get("/api/hashtags", params={"campaign_id": str(scenario.campaign["id"])})
        want = _expected(found, None, None)
        return True if got.status_code == 200 and _lists(got.json()) == want else None

    await wait_for(rolled_up, 30, "the hashtag rollup", step=0.3)
    yield found
    await owner.aclose()
    await found.stranger.aclose()


def _expected(world: World, first: date | None, last: date | None) -> dict[str, Any]:
    return oracle_tags(
        posts=world.scenario.posts,
        samples=world.scenario.samples,
        tags_of=world.tags_of,
        posted_day=world.posted_day,
        first_day=first,
        last_day=last,
    )


def _lists(body: dict[str, Any]) -> dict[str, Any]:
    return {"hashtags": body["hashtags"], "mentions": body["mentions"]}


async def test_top_hashtags_and_mentions_match_the_independent_calculation(world: World) -> None:
    cid = str(world.scenario.campaign["id"])
    today = utcnow().date()
    for first, last in [
        (None, None),
        (today - timedelta(days=1), today),
        (None, today - timedelta(days=2)),
    ]:
        params = {"campaign_id": cid}
        if first:
            params["from"] = first.isoformat()
        if last:
            params["to"] = last.isoformat()
        got = await world.owner.get("/api/hashtags", params=params)
        assert got.status_code == 200, got.text
        body = got.json()
        assert _lists(body) == _expected(world, first, last), (first, last)
        assert body["from"] == (first.isoformat() if first else None)
    whole = (await world.owner.get("/api/hashtags", params={"campaign_id": cid})).json()
    tags = {t["tag"]: t for t in whole["hashtags"]}
    # One tag however it was typed, and the fixture's caption read by ingest's normalizer.
    assert {"glowup", "skincare", "ootd", "สวัสดี"} <= set(tags)
    assert "1" not in tags
    assert {"lisbonlinen", "maya.styles", "lumen_beauty"} <= {m["tag"] for m in whole["mentions"]}
    top = await world.owner.get("/api/hashtags", params={"campaign_id": cid, "limit": "2"})
    assert top.json()["hashtags"] == whole["hashtags"][:2]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "campaign_id"),
        ({"campaign_id": "not-a-uuid"}, "campaign_id"),
        ({"campaign_id": str(uuid4())}, "campaign_id"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-11-20", "to": "2026-11-19"}, "to"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    world: World, params: dict[str, str], field: str
) -> None:
    query = (
        {"campaign_id": str(world.scenario.campaign["id"]), **params}
        if field != "campaign_id"
        else params
    )
    got = await world.owner.get("/api/hashtags", params=query)
    assert got.status_code == 422, got.text
    assert got.json()["error"]["details"][0]["path"] == field


async def test_another_agencys_campaign_is_unknown_and_strangers_must_sign_in(world: World) -> None:
    theirs = await world.owner.get(
        "/api/hashtags", params={"campaign_id": str(world.stranger_campaign)}
    )
    assert theirs.status_code == 422
    assert theirs.json()["error"]["details"][0]["path"] == "campaign_id"
    ours = await world.stranger.get(
        "/api/hashtags", params={"campaign_id": str(world.scenario.campaign["id"])}
    )
    assert ours.status_code == 422
    async with httpx.AsyncClient(base_url=world.gateway, timeout=10) as anonymous:
        response = await anonymous.get(
            "/api/hashtags", params={"campaign_id": str(world.scenario.campaign["id"])}
        )
        assert response.status_code == 401


async def test_the_campaign_page_shows_the_top_hashtags_and_mentions(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.gateway, timeout=15) as browser:
        signed_in = await browser.post(
            "/login", data={"email": world.email, "password": PASSWORD, "next": "/campaigns"}
        )
        assert signed_in.status_code == 303, signed_in.text
        page = await browser.get(f"/campaigns/{world.scenario.campaign['id']}")
    assert page.status_code == 200
    html = page.text
    assert 'id="tags-hashtags"' in html
    assert 'id="tags-mentions"' in html
    want = _expected(world, None, None)
    first = want["hashtags"][0]
    assert f"#{first['tag']}</th>" in html
    assert f"@{want['mentions'][0]['tag']}</th>" in html
