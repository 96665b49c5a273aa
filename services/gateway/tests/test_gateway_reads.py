"""The gateway's reads and machine surfaces end to end: API tokens, numbers, alerts, CSV import
and export, the organization export and the media proxy, with gateway, ingest, aggregator and
alerter running as real processes over real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from collections.abc import AsyncIterator, Awaitable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from tests.oracle.kpi_oracle import oracle_numbers
from tests.support.agency import PASSWORD
from tests.support.agency import create_org as _create_org
from tests.support.catalog import catalog_events, wait_for, write_catalog
from tests.support.scenario import Bus, Scenario, build_scenario
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
T = TypeVar("T")

# Creators' names as agencies type them: one that a spreadsheet would run as a formula.
NAMES = ['=HYPERLINK("https://evil.example/x","click")', "Maya Styles 🌸", "Zoë Ärger"]
IMPORT_PPID = "PulseImp0rt1"


# ---------------------------------------------------------------------------------------------
# Processes, organizations and the catalog


@pytest.fixture(scope="module")
def procs(service_env: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    peers = {name: ServiceProcess(name, service_env, LOGS) for name in ("ingest", "aggregator")}
    peers["alerter"] = ServiceProcess("alerter", service_env, LOGS)
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


def create_org(service_env: dict[str, str], name: str, email: str) -> dict[str, str]:
    # Never pulled from the provider: the numbers are the test's alone.
    return _create_org(service_env, name, email, test=True)


async def login(base_url: str, email: str, password: str = PASSWORD) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=15)
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


@dataclass
class Org:
    org_id: UUID
    user_id: UUID
    owner: httpx.AsyncClient


@dataclass
class World:
    gateway: str
    ingest: str
    org: Org
    stranger: Org
    a: Scenario
    b: Scenario
    ingest_token: str
    uncomputed: UUID  # a campaign the aggregator never heard of
    import_post: dict[str, Any]  # B's post registered under a real Instagram URL
    extra_samples: list[dict[str, Any]] = field(default_factory=list)  # what imports added


async def new_org(gateway: str, service_env: dict[str, str], name: str) -> Org:
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    ids = await asyncio.to_thread(create_org, service_env, name, email)
    return Org(UUID(ids["org_id"]), UUID(ids["user_id"]), await login(gateway, email))


def expected(world: World, scenario: Scenario, now: datetime) -> dict[str, Any]:
    samples = scenario.samples + [
        s for s in world.extra_samples if s["post_id"] in {p["id"] for p in scenario.posts}
    ]
    return oracle_numbers(scenario.campaign, scenario.bookings, scenario.posts, samples, now)


async def numbers_match(world: World, scenario: Scenario) -> bool:
    cid = scenario.campaign["id"]
    platforms = await world.org.owner.get(f"/api/campaigns/{cid}/platforms")
    daily = await world.org.owner.get(f"/api/campaigns/{cid}/daily")
    assert platforms.status_code == daily.status_code == 200, (platforms.text, daily.text)
    want = expected(world, scenario, utcnow())
    return bool(
        platforms.json()["items"] == want["platforms"] and daily.json()["items"] == want["daily"]
    )


@pytest.fixture(scope="module")
async def world(
    procs: dict[str, ServiceProcess], service_env: dict[str, str], servers: Servers
) -> AsyncIterator[World]:
    gateway = procs["gateway"].url
    org = await new_org(gateway, service_env, "Northwind Talent")
    stranger = await new_org(gateway, service_env, "Southwind Media")
    now = utcnow()
    a = build_scenario(now, seed=41)
    b = build_scenario(now, seed=42, raw_fixture=False)
    a.org_id = b.org_id = org.org_id
    b.campaign["name"] = "Autumn Drop / Q4"
    import_post = {
        "id": uuid4(),
        "booking_id": b.bookings[2]["id"],
        "campaign_id": b.campaign["id"],
        "platform": "instagram",
        "platform_post_id": IMPORT_PPID,
        "url": f"https://www.instagram.com/p/{IMPORT_PPID}/",
    }
    b.posts.append(import_post)

    conn = await asyncpg.connect(servers.database_url)
    try:
        await write_catalog(conn, a, NAMES)
        await write_catalog(conn, b, ["Leo Brandt", "Ana Sol", "Kai Moon"])
        uncomputed = uuid4()
        await conn.execute(
            "INSERT INTO catalog.campaigns (id, org_id, client_id, name, status, start_date, "
            "end_date, currency) VALUES ($1, $2, $3, 'Not yet computed', 'draft', $4, $5, 'EUR')",
            uncomputed,
            org.org_id,
            a.campaign["client_id"],
            now.date(),
            now.date() + timedelta(days=30),
        )

        created = await org.owner.post("/api/tokens", json={"name": "n8n", "scopes": ["ingest"]})
        assert created.status_code == 201, created.text
        token = created.json()["token"]
        async with Bus(service_env["PULSE_AMQP_URL"]) as bus:
            for event in catalog_events(a) + catalog_events(b):
                await bus.publish_event(org.org_id, event)

        async def ingest_knows_everything() -> bool | None:
            tracked = await conn.fetchval(
                "SELECT count(*) FROM ingest.tracked_posts WHERE org_id = $1", org.org_id
            )
            tokens = await conn.fetchval(
                "SELECT count(*) FROM ingest.api_tokens WHERE org_id = $1", org.org_id
            )
            return True if tracked == len(a.posts) + len(b.posts) and tokens == 1 else None

        await wait_for(ingest_knows_everything, 20, "ingest to learn the catalog and the token")
    finally:
        await conn.close()

    async with httpx.AsyncClient(base_url=procs["ingest"].url, timeout=30) as http:
        items = a.items + b.items
        for start in range(0, len(items), 250):
            response = await http.post(
                "/api/ingest/posts",
                json={"items": items[start : start + 250]},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["rejected"] == [], response.text

    found = World(gateway, procs["ingest"].url, org, stranger, a, b, token, uncomputed, import_post)
    for scenario in (a, b):
        await wait_for(
            lambda s=scenario: _true_or_none(numbers_match(found, s)),
            20,
            f"the numbers of {scenario.campaign['name']}",
            step=0.2,
        )
    yield found
    await org.owner.aclose()
    await stranger.owner.aclose()


async def _true_or_none(check: Awaitable[bool]) -> bool | None:
    return True if await check else None


# ---------------------------------------------------------------------------------------------
# API tokens


async def test_token_secret_is_shown_once_and_stored_as_its_hash(
    world: World, servers: Servers
) -> None:
    owner = world.org.owner
    created = await owner.post("/api/tokens", json={"name": "dashboard", "scopes": ["read"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "name", "scopes", "token", "created_at"}
    assert body["scopes"] == ["read"]
    assert body["token"].startswith("pulse_")

    conn = await asyncpg.connect(servers.database_url)
    try:
        stored = await conn.fetchval(
            "SELECT token_sha256 FROM catalog.api_tokens WHERE id = $1", UUID(body["id"])
        )
        audit = await conn.fetchval(
            "SELECT after::text FROM catalog.audit_log WHERE entity_id = $1", UUID(body["id"])
        )
    finally:
        await conn.close()
    assert stored == hashlib.sha256(body["token"].encode()).digest()
    assert body["token"] not in audit
    assert "token_sha256" not in audit

    # A read token reads, and its use is recorded; it never writes, nor manages tokens.
    async with httpx.AsyncClient(
        base_url=world.gateway, headers={"Authorization": f"Bearer {body['token']}"}, timeout=15
    ) as machine:
        assert (await machine.get("/api/alerts")).status_code == 200
        assert (await machine.get("/api/tokens")).status_code == 403
        refused = await machine.post(f"/api/alerts/{uuid4()}/resolve", json={})
        assert refused.status_code == 403

    listed = await owner.get("/api/tokens")
    assert listed.status_code == 200
    text = listed.text
    assert body["token"] not in text
    assert "token_sha256" not in text
    mine = next(t for t in listed.json()["items"] if t["id"] == body["id"])
    assert "token" not in mine
    assert mine["last_used_at"] is not None
    assert mine["revoked_at"] is None
    assert mine["created_by"] == str(world.org.user_id)

    for bad in ({"name": "x", "scopes": ["admin"]}, {"name": "x", "scopes": []}, {"scopes": []}):
        refused = await owner.post("/api/tokens", json=bad)
        assert refused.status_code == 422, refused.text


async def test_revoking_an_ingest_token_makes_ingest_refuse_it(world: World) -> None:
    owner = world.org.owner
    created = (
        await owner.post("/api/tokens", json={"name": "temporary", "scopes": ["ingest"]})
    ).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    async with httpx.AsyncClient(base_url=world.ingest, timeout=10) as ingest:

        async def answered(status: int) -> bool | None:
            # An item already stored: accepted auth answers 200 with a duplicate.
            sample = world.a.items[0]
            response = await ingest.post("/api/ingest/posts", json=sample, headers=headers)
            return True if response.status_code == status else None

        await wait_for(lambda: answered(200), 10, "ingest to accept the new token")
        assert (await owner.delete(f"/api/tokens/{created['id']}")).status_code == 204
        await wait_for(lambda: answered(401), 5, "ingest to refuse the revoked token")

    assert (await owner.delete(f"/api/tokens/{created['id']}")).status_code == 204  # idempotent
    listed = (await owner.get("/api/tokens", params={"limit": 200})).json()["items"]
    revoked = next(t for t in listed if t["id"] == created["id"])
    assert revoked["revoked_at"] is not None  # the row is kept

    assert (await world.stranger.owner.delete(f"/api/tokens/{created['id']}")).status_code == 404
    assert (await owner.delete(f"/api/tokens/{uuid4()}")).status_code == 404


# ---------------------------------------------------------------------------------------------
# Numbers


async def test_daily_platforms_and_compare_answer_what_the_aggregator_computed(
    world: World,
) -> None:
    owner = world.org.owner
    a, b = world.a, world.b
    now = utcnow()
    want_a, want_b = expected(world, a, now), expected(world, b, now)
    cid = a.campaign["id"]

    assert (await owner.get(f"/api/campaigns/{cid}/daily")).json()["items"] == want_a["daily"]
    platforms = (await owner.get(f"/api/campaigns/{cid}/platforms")).json()["items"]
    assert platforms == want_a["platforms"]

    creator = a.bookings[1]
    own_posts = [p for p in a.posts if p["booking_id"] == creator["id"]]
    own = oracle_numbers(a.campaign, [creator], own_posts, a.samples, now)
    series = await owner.get(
        f"/api/campaigns/{cid}/daily", params={"influencer_id": str(creator["influencer_id"])}
    )
    assert series.status_code == 200
    assert series.json()["items"] == own["daily"] != want_a["daily"]

    compared = await owner.get("/api/compare", params={"ids": f"{cid},{b.campaign['id']}"})
    assert compared.status_code == 200, compared.text
    result = compared.json()
    by_id = {c["campaign_id"]: c for c in result["campaigns"]}
    for want in (want_a, want_b):
        figures = want["campaign"]
        entry = by_id[figures["campaign_id"]]
        for metric in ("actual_views", "actual_engagement", "engagement_rate", "kpi_pct"):
            assert entry[metric] == figures[metric], metric
        for metric in ("actual_posts", "spend_cents", "cpm", "cpe"):
            assert entry[metric] == figures[metric], metric
    views = {k: v["actual_views"] for k, v in by_id.items()}
    assert result["winners"]["actual_views"] == [max(views, key=views.__getitem__)]
    cpms = {k: v["cpm"] for k, v in by_id.items()}
    assert result["winners"]["cpm"] == [min(cpms, key=cpms.__getitem__)]

    # An uncomputed campaign has empty lists, not an error.
    fresh = world.uncomputed
    assert (await owner.get(f"/api/campaigns/{fresh}/daily")).json() == {"items": []}
    assert (await owner.get(f"/api/campaigns/{fresh}/platforms")).json() == {"items": []}


async def test_compare_takes_two_or_three_campaigns_of_the_callers_org(world: World) -> None:
    owner = world.org.owner
    a, b = str(world.a.campaign["id"]), str(world.b.campaign["id"])
    for ids in (a, f"{a},{a}", f"{a},{b},{uuid4()},{uuid4()}", "not-a-uuid,x", ""):
        refused = await owner.get("/api/compare", params={"ids": ids})
        assert refused.status_code == 422, (ids, refused.text)
        paths = [d.get("path", "") for d in refused.json()["error"]["details"]]
        assert any(p.endswith("ids") for p in paths), paths
    assert (await owner.get("/api/compare", params={"ids": f"{a},{uuid4()}"})).status_code == 404
    stranger = world.stranger.owner
    assert (await stranger.get("/api/compare", params={"ids": f"{a},{b}"})).status_code == 404


async def test_post_metrics_pages_through_the_sample_history(world: World) -> None:
    post = world.a.posts[0]
    want = sorted(s["observed_at"] for s in world.a.samples if s["post_id"] == post["id"])
    seen: list[datetime] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        response = await world.org.owner.get(f"/api/posts/{post['id']}/metrics", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [datetime.fromisoformat(i["observed_at"]) for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == want
    assert pages > 1
    first = (await world.org.owner.get(f"/api/posts/{post['id']}/metrics")).json()["items"][0]
    assert {"views", "likes", "comments", "shares", "saves", "estimated", "source"} <= set(first)

    bad = await world.org.owner.get(f"/api/posts/{post['id']}/metrics", params={"cursor": "%%"})
    assert bad.status_code == 422
    assert (await world.org.owner.get(f"/api/posts/{uuid4()}/metrics")).status_code == 404
    assert (await world.stranger.owner.get(f"/api/posts/{post['id']}/metrics")).status_code == 404


# ---------------------------------------------------------------------------------------------
# Alerts


async def test_an_under_kpi_alert_is_listed_read_and_resolved(world: World) -> None:
    owner = world.org.owner
    cid = str(world.a.campaign["id"])
    params = {"status": "open", "type": "under_kpi", "campaign_id": cid}

    async def open_alerts() -> list[dict[str, Any]] | None:
        response = await owner.get("/api/alerts", params=params)
        assert response.status_code == 200, response.text
        return response.json()["items"] or None

    alerts = await wait_for(open_alerts, 15, "an under_kpi alert on a campaign far below target")
    alert = alerts[0]
    assert alert["campaign_id"] == cid
    assert alert["severity"] in ("info", "warning", "critical")

    detail = await owner.get(f"/api/alerts/{alert['id']}")
    assert detail.status_code == 200
    assert [h["action"] for h in detail.json()["history"]][:1] == ["raised"]

    resolved = await owner.post(
        f"/api/alerts/{alert['id']}/resolve", json={"note": "creator posts again on Friday"}
    )
    assert resolved.status_code == 200, resolved.text
    done = resolved.json()
    assert done["status"] == "resolved"
    assert done["resolved_by"] == "user"
    assert done["resolved_by_user"] == str(world.org.user_id)
    assert done["resolution_note"] == "creator posts again on Friday"
    history = (await owner.get(f"/api/alerts/{alert['id']}")).json()["history"]
    assert len(history) >= 2

    listed = await owner.get("/api/alerts", params={"status": "resolved", "campaign_id": cid})
    assert alert["id"] in {a["id"] for a in listed.json()["items"]}
    paged = await owner.get("/api/alerts", params={"campaign_id": cid, "limit": 1})
    assert len(paged.json()["items"]) == 1

    assert (await owner.get("/api/alerts", params={"status": "closed"})).status_code == 422
    stranger = world.stranger.owner
    assert (await stranger.get(f"/api/alerts/{alert['id']}")).status_code == 404
    assert (await stranger.post(f"/api/alerts/{alert['id']}/resolve", json={})).status_code == 404
    assert (await stranger.get("/api/alerts", params={"campaign_id": cid})).json()["items"] == []


# ---------------------------------------------------------------------------------------------
# CSV import


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _finished_import(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        response = await client.get(f"/api/imports/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job if job["status"] in ("done", "failed") else None

    return await wait_for(finished, 20, f"import {job_id} to finish")


async def _upload(client: httpx.AsyncClient, content: bytes, name: str = "metrics.csv") -> str:
    response = await client.post(
        "/api/imports/metrics", files={"file": (name, content, "text/csv")}
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] in ("queued", "running", "done")
    job_id: str = response.json()["id"]
    return job_id


async def test_csv_import_end_to_end_and_a_second_import_double_counts_nothing(
    world: World,
) -> None:
    owner = world.org.owner
    b = world.b
    post = b.posts[0]
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    t1, t2, t3 = hour - timedelta(hours=3), hour - timedelta(hours=2), hour - timedelta(hours=1)
    reel = f"https://instagram.com/reel/{IMPORT_PPID}/?igsh=abc"  # same post, another form
    lines = [
        "post_id,post_url,observed_at,views,likes,comments,shares,saves,notes",
        f"{post['id']},,{_iso(t1)},3000000,150000,2000,900,700,first",
        f'{post["id"]},,{_iso(t2)},"3,100,000",155000,2100,950,720,',
        f",{reel},{_iso(t1)},5000,300,20,,,reel",
        f",{reel},{_iso(t2)},9000,500,40,n/a,n/a,",
        f"{post['id']},,{_iso(t3)},lots,160000,2200,1000,750,",  # line 6: bad views
        f",https://www.tiktok.com/@nobody/video/1234567890123,{_iso(t1)},1,1,1,1,1,",  # 7
        f"{uuid4()},,{_iso(t1)},1,1,1,1,1,",  # line 8: not a post of this org
        f"{post['id']},,2026-13-45,1,-4,1,1,1,",  # line 9: two problems
    ]
    content = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    added = [
        (post["id"], t1, 3_000_000, 150_000, 2000, 900, 700),
        (post["id"], t2, 3_100_000, 155_000, 2100, 950, 720),
        (world.import_post["id"], t1, 5000, 300, 20, None, None),
        (world.import_post["id"], t2, 9000, 500, 40, None, None),
    ]

    # Readers can poll but only managers and owners import.
    readonly = (await owner.post("/api/tokens", json={"name": "ro", "scopes": ["read"]})).json()
    async with httpx.AsyncClient(
        base_url=world.gateway, headers={"Authorization": f"Bearer {readonly['token']}"}
    ) as machine:
        refused = await machine.post(
            "/api/imports/metrics", files={"file": ("m.csv", content, "text/csv")}
        )
        assert refused.status_code == 403

    job = await _finished_import(owner, await _upload(owner, content))
    assert job["status"] == "done", job
    assert job["filename"] == "metrics.csv"
    assert job["finished_at"] is not None
    counts = {k: job[k] for k in ("rows_total", "rows_accepted", "rows_duplicate", "rows_rejected")}
    assert counts == {
        "rows_total": 8,
        "rows_accepted": 4,
        "rows_duplicate": 0,
        "rows_rejected": 4,
    }
    errors = {(e["line"], e["field"]) for e in job["errors"]}
    assert errors == {
        (6, "views"),
        (7, "post_url"),
        (8, "post_id"),
        (9, "observed_at"),
        (9, "likes"),
    }, job["errors"]

    world.extra_samples += [
        {
            "post_id": pid,
            "observed_at": at,
            "views": views,
            "likes": likes,
            "comments": comments,
            "shares": shares,
            "saves": saves,
            "reach": None,
            "estimated": False,
        }
        for pid, at, views, likes, comments, shares, saves in added
    ]
    await wait_for(
        lambda: _true_or_none(numbers_match(world, b)), 15, "the imported samples in the numbers"
    )
    history = (await owner.get(f"/api/posts/{world.import_post['id']}/metrics")).json()["items"]
    assert [(h["views"], h["shares"], h["source"]) for h in history] == [
        (5000, None, "import"),
        (9000, None, "import"),
    ]

    again = await _finished_import(owner, await _upload(owner, content, "metrics (1).csv"))
    assert again["status"] == "done"
    assert (again["rows_accepted"], again["rows_duplicate"], again["rows_rejected"]) == (0, 4, 4)
    await asyncio.sleep(0.5)
    assert await numbers_match(world, b), "a re-import changed the numbers"

    broken = await _finished_import(owner, await _upload(owner, b"foo,bar\n1,2\n"))
    assert broken["status"] == "failed"
    assert "missing required columns" in broken["message"]

    assert (await world.stranger.owner.get(f"/api/imports/{job['id']}")).status_code == 404
    assert (await owner.get(f"/api/imports/{uuid4()}")).status_code == 404


# ---------------------------------------------------------------------------------------------
# Exports


async def test_campaign_csv_export_streams_with_a_bom_and_no_formulas(world: World) -> None:
    cid = world.a.campaign["id"]
    response = await world.org.owner.get(f"/api/campaigns/{cid}/export.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="glow-serum-launch-')
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text)))
    header = records[0]
    assert header[:4] == ["campaign", "influencer", "platform", "post_url"]
    assert "booking_fee" in header
    rows = records[1 : 1 + len(world.a.posts)]
    assert {r[1] for r in rows} == {"'" + NAMES[0], NAMES[1], NAMES[2]}
    assert not any(cell.startswith(("=", "+", "@")) for record in records for cell in record)
    want = expected(world, world.a, utcnow())["campaign"]
    totals = {r[0]: r[1] for r in records if len(r) == 2}
    assert totals["actual_views"] == str(want["actual_views"])
    # EMV per post and in total, valued exactly as the API's /emv values it (staff only).
    emv = (await world.org.owner.get(f"/api/campaigns/{cid}/emv")).json()
    assert emv["emv_cents"] > 0
    column = header.index("emv_estimate")
    money = [f"{c // 100}.{c % 100:02d}" if c is not None else "" for c in _post_emv(emv)]
    assert [r[column] for r in rows] == money
    assert totals["emv_estimate"] == f"{emv['emv_cents'] // 100}.{emv['emv_cents'] % 100:02d}"
    assert totals["emv_currency"] == emv["currency"]

    # Another campaign's name becomes a safe file name; an uncomputed one exports empty.
    other = await world.org.owner.get(f"/api/campaigns/{world.b.campaign['id']}/export.csv")
    assert 'filename="autumn-drop-q4-' in other.headers["content-disposition"]
    empty = await world.org.owner.get(f"/api/campaigns/{world.uncomputed}/export.csv")
    assert empty.status_code == 200
    assert "actual_views,0" in empty.content.decode("utf-8-sig")

    assert (await world.stranger.owner.get(f"/api/campaigns/{cid}/export.csv")).status_code == 404


def _post_emv(emv: dict[str, Any]) -> list[int | None]:
    return [p["emv_cents"] for p in emv["posts"]]


async def test_pulse_export_holds_the_whole_org_and_no_secret(world: World) -> None:
    response = await world.org.owner.get("/api/pulse")
    assert response.status_code == 200, response.text
    text = response.text
    assert "password_hash" not in text
    assert "token_sha256" not in text
    assert hashlib.sha256(world.ingest_token.encode()).hexdigest() not in text
    doc = response.json()
    assert doc["organization"]["id"] == str(world.org.org_id)
    campaigns = {c["id"]: c for c in doc["campaigns"]}
    a, b = world.a, world.b
    assert set(campaigns) == {str(a.campaign["id"]), str(b.campaign["id"]), str(world.uncomputed)}
    kpis = campaigns[str(a.campaign["id"])]["kpis"]
    assert kpis["actual_views"] == expected(world, a, utcnow())["campaign"]["actual_views"]
    assert campaigns[str(world.uncomputed)]["kpis"] is None
    assert len(doc["clients"]) == 2
    assert len(doc["bookings"]) == len(a.bookings) + len(b.bookings)
    assert len(doc["posts"]) == len(a.posts) + len(b.posts)
    influencers = {i["display_name"]: i for i in doc["influencers"]}
    assert influencers[NAMES[1]]["handles"][0]["platform"] == "tiktok"

    theirs = (await world.stranger.owner.get("/api/pulse")).json()
    assert theirs["campaigns"] == []
    assert theirs["posts"] == []


# ---------------------------------------------------------------------------------------------
# Media proxy, and a peer that is down


async def test_media_proxy_refuses_urls_off_the_allow_list(world: World) -> None:
    owner = world.org.owner
    for url, code in (
        ("https://evil.example.com/cat.png", "host_not_allowed"),
        ("http://p16-sign.tiktokcdn.com/obj/thumb.jpg", "scheme_not_allowed"),
        ("https://169.254.169.254/latest/meta-data", "host_not_allowed"),
        ("https://user:pw@p16-sign.tiktokcdn.com/x.jpg", "credentials_not_allowed"),
    ):
        response = await owner.get("/api/media-proxy", params={"url": url})
        assert response.status_code == 400, (url, response.text)
        assert response.json()["error"]["code"] == code
    assert (await owner.get("/api/media-proxy")).status_code == 422
    async with httpx.AsyncClient(base_url=world.gateway) as anonymous:
        target = {"url": "https://evil.example.com/cat.png"}
        assert (await anonymous.get("/api/media-proxy", params=target)).status_code == 401


async def test_a_peer_that_is_down_answers_503(
    world: World, procs: dict[str, ServiceProcess]
) -> None:
    procs["alerter"].stop()  # the last test: nothing after it needs the alerter
    response = await world.org.owner.get("/api/alerts")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert "alerter" in error["message"]
    # The other peers still answer.
    cid = world.a.campaign["id"]
    assert (await world.org.owner.get(f"/api/campaigns/{cid}/platforms")).status_code == 200
