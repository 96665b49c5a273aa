"""Issue 17's multi-replica proof: 2 ingest, 3 aggregator, 2 alerter and 2 gateway processes on
one PostgreSQL and one RabbitMQ, fed over HTTP (to both ingest replicas) and AMQP, with
duplicates, while an aggregator and an ingest replica are killed -9 and started again.

It checks what scaling out must never change: the numbers every gateway replica serves equal
the independent oracle's, no alert is open twice, every gateway replica's SSE clients get every
kpi.updated of their organization, and a restarted replica takes its share of the work again."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pulse_contracts import utcnow
from pulse_gateway.read_model import version_of
from tests.oracle.kpi_oracle import oracle_numbers
from tests.support.agency import PASSWORD, create_org
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess
from tests.support.staff_api import Stream, ok

pytestmark = pytest.mark.system
LOGS = ROOT / "test-artifacts" / "logs"
REPLICAS = {"ingest": 2, "aggregator": 3, "alerter": 2, "gateway": 2}
# PULSE_TEST_REPLICAS=1 runs one process of each instead, without the kills: the same load's
# baseline, for bench/RESULTS.md's comparison.
if os.environ.get("PULSE_TEST_REPLICAS") == "1":
    REPLICAS = dict.fromkeys(REPLICAS, 1)
SCALED = min(REPLICAS["ingest"], REPLICAS["aggregator"]) > 1
KPI_KEYS = ("actual_views", "actual_engagement", "actual_posts", "views_pct", "kpi_pct",
            "engagement_rate", "cpm", "cpe", "spend_cents")  # fmt: skip
CONVERGE_S = 60.0
SAMPLES = "pulse_ingest_samples_total"

Replicas = dict[str, list[ServiceProcess]]


@pytest.fixture(scope="module")
def replicas(service_env: dict[str, str]) -> Iterator[Replicas]:
    procs: Replicas = {name: [] for name in REPLICAS}
    try:
        for name in ("ingest", "aggregator", "alerter"):
            for _ in range(REPLICAS[name]):
                procs[name].append(ServiceProcess(name, service_env, LOGS))
                procs[name][-1].start()
        env = {
            **service_env,
            "PULSE_GATEWAY_INGEST_URL": procs["ingest"][0].url,
            "PULSE_GATEWAY_AGGREGATOR_URL": procs["aggregator"][0].url,
            "PULSE_GATEWAY_ALERTER_URL": procs["alerter"][0].url,
        }
        for _ in range(REPLICAS["gateway"]):
            procs["gateway"].append(ServiceProcess("gateway", env, LOGS))
            procs["gateway"][-1].start()
        yield procs
    finally:
        for group in procs.values():
            for proc in group:
                proc.stop()


async def _catalog(gw: httpx.AsyncClient) -> dict[str, Any]:
    """Two live campaigns at ~85 % of their timeline, three creators each on three posts."""
    today = utcnow().date()
    client = await ok(gw.post("/api/clients", json={"name": "Lumière"}))
    creators = [
        await ok(
            gw.post(
                "/api/influencers",
                json={"display_name": name, "handles": [{"platform": "tiktok", "handle": name}]},
            )
        )
        for name in ("maya.styles", "lea.martin", "tom.tech")
    ]
    campaigns, bookings, posts = [], [], []
    for name in ("Holiday Gift Sets", "Winter Trail"):
        campaign = await ok(
            gw.post(
                "/api/campaigns",
                json={
                    "client_id": client["id"],
                    "name": name,
                    "status": "live",
                    "start_date": (today - timedelta(days=17)).isoformat(),
                    "end_date": (today + timedelta(days=2)).isoformat(),
                    "budget_cents": 30_000_00,
                    "currency": "EUR",
                },
            )
        )
        campaigns.append(campaign)
        for creator, committed in zip(creators, (400_000, 150_000, 90_000), strict=True):
            booking = await ok(
                gw.post(
                    f"/api/campaigns/{campaign['id']}/bookings",
                    json={
                        "influencer_id": creator["id"],
                        "fee_cents": 500_000,
                        "committed_views": committed,
                        "committed_posts": 3,
                        "min_engagement_rate": 3.0,
                    },
                )
            )
            bookings.append({**booking, "campaign_id": campaign["id"], "min_engagement_rate": 3.0})
            for _ in range(3):
                video = uuid4().int % 10**19
                url = f"https://www.tiktok.com/@{creator['display_name']}/video/{video}"
                post = await ok(gw.post(f"/api/bookings/{booking['id']}/posts", json={"url": url}))
                posts.append({**post, "booking_id": booking["id"], "campaign_id": campaign["id"]})
    return {"client": client, "campaigns": campaigns, "bookings": bookings, "posts": posts}


def _load(posts: list[dict[str, Any]], rng: random.Random) -> tuple[list[Any], list[Any]]:
    """(items as n8n sends them, the samples they stand for): 40 per post over ~8 days."""
    now = utcnow()
    items, samples = [], []
    for post in posts:
        scale = rng.uniform(10_000, 80_000)
        for hours_ago in range(200, 0, -5):
            observed = (now - timedelta(hours=hours_ago)).replace(microsecond=0)
            views = int(scale * (1 - 0.97 ** (200 - hours_ago + 1)))
            counters = {"views": views, "likes": views // 25, "comments": views // 500}
            samples.append({"post_id": post["id"], "observed_at": observed, **counters})
            items.append(
                {
                    "post_id": post["id"],
                    "observed_at": observed.isoformat().replace("+00:00", "Z"),
                    "metrics": counters,
                }
            )
    return items, samples


def _expected(catalog: dict[str, Any], campaign: dict[str, Any], samples: list[Any]) -> Any:
    oracle_campaign = {
        **{k: campaign[k] for k in ("id", "client_id", "name", "status", "start_date")},
        "end_date": campaign["end_date"],
        "budget_cents": 30_000_00,
        "currency": "EUR",
        "committed_views": None,
        "committed_engagement": None,
    }
    bookings = [b for b in catalog["bookings"] if b["campaign_id"] == campaign["id"]]
    posts = [p for p in catalog["posts"] if p["campaign_id"] == campaign["id"]]
    return oracle_numbers(oracle_campaign, bookings, posts, samples, utcnow())


@pytest.fixture
async def probe(servers: Servers) -> AsyncIterator[list[dict[str, Any]]]:
    """Every kpi.updated and alert.* envelope on the bus: what every gateway must relay, and
    what the alerters announced."""
    seen: list[dict[str, Any]] = []
    connection = await aio_pika.connect_robust(servers.amqp_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind("pulse.events", routing_key="kpi.updated")
    await queue.bind("pulse.events", routing_key="alert.*")

    async def record(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            seen.append(json.loads(message.body))

    await queue.consume(record)
    try:
        yield seen
    finally:
        await connection.close()


async def _send(
    chunks: list[list[Any]], ingest: list[ServiceProcess], bus: Bus, token: str, rng: random.Random
) -> None:
    """Half over HTTP to a live ingest replica at random, half over AMQP (any replica)."""
    headers = {"Authorization": f"Bearer {token}"}
    for chunk in chunks:
        if rng.random() < 0.5:
            live = [p for p in ingest if p.process is not None and p.process.poll() is None]
            async with httpx.AsyncClient(base_url=rng.choice(live).url, timeout=30) as http:
                sent = http.post("/api/ingest/posts", json={"items": chunk}, headers=headers)
                result = await ok(sent)
            assert not result["rejected"], result["rejected"][:3]
        else:
            await bus.publish_items(token, chunk)


def _chunks(items: list[Any], rng: random.Random) -> list[list[Any]]:
    shuffled = rng.sample(items, k=len(items))
    chunks, i = [], 0
    while i < len(shuffled):
        size = rng.randint(1, 40)
        chunks.append(shuffled[i : i + size])
        i += size
    return chunks + rng.sample(chunks, k=len(chunks) // 4)  # a quarter sent twice


async def _metric(procs: list[ServiceProcess], sample: str, **labels: str) -> float:
    """The sum of one sample (with these labels) over the /metrics of `procs`."""
    total = 0.0
    for proc in procs:
        async with httpx.AsyncClient(base_url=proc.url, timeout=5) as client:
            text = (await client.get("/metrics")).text
        for family in text_string_to_metric_families(text):
            for found in family.samples:
                if found.name == sample and labels.items() <= found.labels.items():
                    total += found.value
    return total


async def _handled_batches(proc: ServiceProcess) -> float:
    """post.pulled batches this aggregator process stored (its freshness observations)."""
    return await _metric([proc], "pulse_freshness_seconds_count", stage="aggregated")


async def _converged(
    replicas: Replicas, catalog: dict[str, Any], samples: list[Any], bearer: dict[str, str]
) -> None:
    """Every gateway replica serves the oracle's numbers for both campaigns."""
    deadline = time.monotonic() + CONVERGE_S
    for gateway in replicas["gateway"]:
        async with httpx.AsyncClient(base_url=gateway.url, headers=bearer, timeout=10) as gw:
            for campaign in catalog["campaigns"]:
                while True:
                    expected = _expected(catalog, campaign, samples)
                    kpis = (await ok(gw.get(f"/api/campaigns/{campaign['id']}"))).get("kpis") or {}
                    if all(kpis.get(k) == expected["campaign"][k] for k in KPI_KEYS):
                        break
                    if time.monotonic() > deadline:
                        for key in KPI_KEYS:
                            assert kpis.get(key) == expected["campaign"][key], (gateway.url, key)
                    await asyncio.sleep(0.2)
                daily = await ok(gw.get(f"/api/campaigns/{campaign['id']}/daily"))
                assert daily["items"] == expected["daily"], gateway.url


async def test_replicas_keep_numbers_exact_alerts_single_and_streams_complete(
    replicas: Replicas,
    service_env: dict[str, str],
    servers: Servers,
    probe: list[dict[str, Any]],
) -> None:
    rng = random.Random(17)
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    ids = await asyncio.to_thread(create_org, service_env, "Northwind", email, test=True)
    gateways = replicas["gateway"]
    async with httpx.AsyncClient(base_url=gateways[0].url, timeout=15) as gw:
        login = await ok(gw.post("/api/auth/login", json={"email": email, "password": PASSWORD}))
        bearer = {"Authorization": f"Bearer {login['access_token']}"}
        gw.headers.update(bearer)
        catalog = await _catalog(gw)
        token = (await ok(gw.post("/api/tokens", json={"name": "n8n", "scopes": ["ingest"]})))[
            "token"
        ]
    # One SSE client on each gateway replica, for the whole run.
    streams = [Stream(httpx.AsyncClient(base_url=g.url, headers=bearer)) for g in gateways]
    listeners = [asyncio.create_task(s.run()) for s in streams]
    for stream in streams:
        await asyncio.wait_for(stream.ready.wait(), 10)
    connected = utcnow()

    items, samples = _load(catalog["posts"], rng)
    ingest, aggregators = replicas["ingest"], replicas["aggregator"]
    started = time.monotonic()
    async with Bus(servers.amqp_url) as bus:
        # Until every ingest replica knows the token and the posts the gateway registered
        # (one sample of each post; sent again later, so also a duplicate).
        firsts = list({item["post_id"]: item for item in reversed(items)}.values())
        for replica in ingest:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=replica.url, headers=headers) as http:
                for _ in range(200):
                    sent = await ok(http.post("/api/ingest/posts", json={"items": firsts}))
                    if not sent["rejected"]:
                        break
                    await asyncio.sleep(0.1)
        chunks = _chunks(items, rng)
        third = len(chunks) // 3
        await _send(chunks[:third], ingest, bus, token, rng)
        # A crashed aggregator and a crashed ingest: their unacknowledged messages go to the
        # other replicas, the HTTP senders to the ingest replica still up.
        if SCALED:
            aggregators[0].kill()
            ingest[1].kill()
        await _send(chunks[third : 2 * third], ingest, bus, token, rng)
        restarting = time.monotonic()
        if SCALED:
            aggregators[0].start()
            ingest[1].start()
        restarting = time.monotonic() - restarting
        before = await _handled_batches(aggregators[0])
        await _send(chunks[2 * third :], ingest, bus, token, rng)
        await _converged(replicas, catalog, samples, bearer)
    elapsed = time.monotonic() - started
    print(  # the figure bench/RESULTS.md quotes
        f"\nreplicas {REPLICAS}: {len(samples)} distinct samples ({sum(map(len, chunks))} sent)"
        f" to exact numbers on every gateway in {elapsed:.1f} s,"
        f" {elapsed - restarting:.1f} s without the restarts"
    )
    assert await _handled_batches(aggregators[0]) > before, "the restarted aggregator idles"
    # What the dashboard shows of this run (deploy/grafana/pulse.json): samples by source and
    # outcome, freshness at both stages, an outbox that drained.
    for source in ("http", "amqp"):
        accepted = await _metric(ingest, SAMPLES, source=source, outcome="accepted")
        assert accepted > 0, source
    duplicates = await _metric(ingest, SAMPLES, outcome="duplicate")
    assert duplicates > 0, "a quarter of the chunks went twice"
    assert await _metric(gateways, "pulse_freshness_seconds_count", stage="read_model") > 0
    deadline = time.monotonic() + 15  # the gauges are refreshed every 5 s
    while await _metric(aggregators, "pulse_outbox_pending") > 0:
        assert time.monotonic() < deadline, "the aggregators' outbox never drained"
        await asyncio.sleep(0.5)

    # No alert is open twice, however many alerter replicas saw the kpi.updated.
    expected_under = set()
    for campaign in catalog["campaigns"]:
        expected = _expected(catalog, campaign, samples)
        expected_under |= {
            f"under_kpi:booking:{b['booking_id']}:80"
            for b in expected["bookings"]
            if b["kpi_pct"] is not None and b["kpi_pct"] < 80
        }
    assert expected_under, "the load must leave some booking under its commitment"
    deadline = time.monotonic() + 10
    async with httpx.AsyncClient(base_url=gateways[-1].url, headers=bearer, timeout=10) as gw:
        while True:
            params = {"status": "open", "limit": "500"}
            alerts = (await ok(gw.get("/api/alerts", params=params)))["items"]
            keys = [a["debounce_key"] for a in alerts]
            if expected_under <= set(keys) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    assert len(keys) == len(set(keys)), sorted(keys)
    assert expected_under <= set(keys)
    ours = [e for e in probe if UUID(e["org_id"]) == UUID(ids["org_id"])]
    raised = [
        (e["data"]["alert_id"], e["data"]["severity"]) for e in ours if e["type"] == "alert.raised"
    ]
    assert raised, "no alert.raised on the bus"
    assert len(raised) == len(set(raised)), "an alert was announced twice at one severity"

    # Every kpi.updated of the organization reached the SSE clients of every gateway replica.
    # Every document computed once the streams were connected (the catalog's own, before,
    # went to no one).
    # The stream announces each one by campaign and version (its as_of in µs).
    mine = {
        (
            e["data"]["campaign"]["campaign_id"],
            version_of(datetime.fromisoformat(e["data"]["as_of"])),
        )
        for e in ours
        if e["type"] == "kpi.updated" and datetime.fromisoformat(e["data"]["as_of"]) > connected
    }
    assert len(mine) >= 2
    deadline = time.monotonic() + 5
    for stream in streams:
        while True:
            got = {
                (e[2]["campaign_id"], e[2]["version"])
                for e in stream.events
                if e[1] == "kpi.updated" and e[2]["type"] == "numbers"
            }
            if got >= mine or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert mine - got == set(), f"{len(mine - got)} kpi.updated never reached a stream"
    for listener in listeners:
        listener.cancel()
    for stream in streams:
        await stream.client.aclose()
