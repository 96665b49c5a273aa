"""The backbone end to end: ingest, aggregator and alerter as real processes over real
PostgreSQL and RabbitMQ, fed the way n8n feeds them, checked against the independent oracle."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from tests.oracle.kpi_oracle import oracle_numbers
from tests.support.scenario import Bus, Scenario, build_scenario
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.system
LOGS = ROOT / "test-artifacts" / "logs"
SERVICE_HEADERS = {"X-Pulse-Service-Token": "test-service-token"}
EXERCISED_RULES = {"under_kpi", "engagement_drop", "deadline", "viral"}
DEADLINE_S = 2.0  # issue: exact numbers through the read APIs within 2 s of the last send


@pytest.fixture(scope="module")
def processes(service_env: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    started: dict[str, ServiceProcess] = {}
    try:
        for name in ("ingest", "aggregator", "alerter"):
            started[name] = ServiceProcess(name, service_env, LOGS)
            started[name].start()
        yield started
    finally:
        for proc in started.values():
            proc.stop()


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything but the moment of computation and the post facts a provider may fill in."""
    campaign = {k: v for k, v in doc["campaign"].items() if k != "timeline_pct"}
    posts = [{"post_id": p["post_id"], "latest": p["latest"]} for p in doc["posts"]]
    return {**doc, "campaign": campaign, "posts": posts, "as_of": None}


def _expected(scenario: Scenario, samples: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return _comparable(
        oracle_numbers(scenario.campaign, scenario.bookings, scenario.posts, samples, now)
    )


def _milestone_alerts(doc: dict[str, Any], now: datetime) -> set[tuple[str, str]]:
    """Open under_kpi alerts kpis.md demands, computed here without the alerter's code."""
    c = doc["campaign"]
    start = datetime.fromisoformat(c["start_date"]).replace(tzinfo=UTC)
    end = datetime.fromisoformat(c["end_date"]).replace(tzinfo=UTC).timestamp() + 86400
    fraction = Decimal(now.timestamp() - start.timestamp()) / Decimal(end - start.timestamp())
    timeline = _two_places(min(max(fraction, Decimal(0)), Decimal(1)) * 100)
    reached = [
        (m, sev) for m, sev in ((95, "critical"), (80, "warning"), (50, "info")) if timeline >= m
    ]
    if not reached:
        return set()
    m, severity = reached[0]
    expected = set()
    scopes = [("campaign", c["campaign_id"], c["kpi_pct"])] + [
        ("booking", b["booking_id"], b["kpi_pct"]) for b in doc["bookings"]
    ]
    for scope, scope_id, kpi in scopes:
        if kpi is not None and kpi < m:
            expected.add((f"under_kpi:{scope}:{scope_id}:{m}", severity))
    return expected


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _engagement_drop_alerts(doc: dict[str, Any], now: datetime) -> set[tuple[str, str]]:
    """engagement_drop per kpis.md with the default thresholds, from the checked document."""
    expected = set()
    yesterday = (now.astimezone(UTC).date() - timedelta(days=1)).isoformat()
    for b in doc["bookings"]:
        if b["actual_views"] < 1000 or b["engagement_rate"] is None:
            continue
        rate = Decimal(str(b["engagement_rate"]))
        minimum = b["min_engagement_rate"]
        close = b["previous_close"]
        before = None
        if close is not None and close["date"] == yesterday and close["views_cum"] > 0:
            before = _two_places(Decimal(100 * close["engagement_cum"]) / close["views_cum"])
        below_minimum = minimum is not None and rate < Decimal(str(minimum))
        dropped = before is not None and rate < Decimal("0.7") * before
        if below_minimum or dropped:
            half = minimum is not None and rate < Decimal(str(minimum)) / 2
            expected.add(
                (f"engagement_drop:booking:{b['booking_id']}", "critical" if half else "warning")
            )
    return expected


def _viral_alerts(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """viral per kpis.md's median rule (the scenario's creators have no follower counts)."""
    views = {
        p["post_id"]: p["latest"]["views"]
        for p in doc["posts"]
        if p["latest"] is not None and p["latest"]["views"] is not None
    }
    expected = set()
    for post_id, mine in views.items():
        others = [v for other, v in views.items() if other != post_id]
        if mine >= 10_000 and len(others) >= 3 and mine >= 5 * statistics.median(others):
            expected.add((f"viral:post:{post_id}", "info"))
    return expected


def _expected_alerts(doc: dict[str, Any], now: datetime) -> set[tuple[str, str]]:
    """The open alerts of the rules this pipeline exercises. deadline cannot hold (the end is
    5 days away); stale_data and sentiment need pulls and comments, proven in their own tests."""
    return _milestone_alerts(doc, now) | _engagement_drop_alerts(doc, now) | _viral_alerts(doc)


async def _send(
    scenario: Scenario, items: list[dict[str, Any]], bus: Bus, ingest_url: str, rng: random.Random
) -> dict[str, int]:
    """Deliver items in random chunks, half over HTTP and half over AMQP, in the given order."""
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    headers = {"Authorization": f"Bearer {scenario.token}"}
    async with httpx.AsyncClient(base_url=ingest_url, timeout=30) as http:
        i = 0
        while i < len(items):
            size = rng.randint(1, 40)
            chunk, i = items[i : i + size], i + size
            if rng.random() < 0.5:
                body: Any = chunk[0] if len(chunk) == 1 else rng.choice([chunk, {"items": chunk}])
                response = await http.post("/api/ingest/posts", json=body, headers=headers)
                assert response.status_code == 200, response.text
                result = response.json()
                totals["accepted"] += result["accepted"]
                totals["duplicates"] += result["duplicates"]
                totals["rejected"] += len(result["rejected"])
            else:
                await bus.publish_items(scenario.token, chunk[0] if len(chunk) == 1 else chunk)
    return totals


async def _numbers(aggregator: ServiceProcess, scenario: Scenario) -> dict[str, Any] | None:
    url = f"/internal/orgs/{scenario.org_id}/campaigns/{scenario.campaign['id']}/numbers"
    async with httpx.AsyncClient(
        base_url=aggregator.url, headers={"X-Pulse-Service-Token": "test-service-token"}, timeout=5
    ) as client:
        response = await client.get(url)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()


async def _open_alerts(alerter: ServiceProcess, scenario: Scenario) -> set[tuple[str, str]]:
    async with httpx.AsyncClient(
        base_url=alerter.url, headers={"X-Pulse-Service-Token": "test-service-token"}, timeout=5
    ) as client:
        response = await client.get(
            f"/internal/orgs/{scenario.org_id}/alerts",
            params={"status": "open", "campaign_id": str(scenario.campaign["id"])},
        )
    assert response.status_code == 200, response.text
    return {
        (a["debounce_key"], a["severity"])
        for a in response.json()["items"]
        if a["type"] in EXERCISED_RULES
    }


async def _await_numbers(
    procs: dict[str, ServiceProcess],
    scenario: Scenario,
    samples: list[dict[str, Any]],
    deadline_s: float,
) -> dict[str, Any]:
    started = time.monotonic()
    last: Any = None
    while True:
        doc = await _numbers(procs["aggregator"], scenario)
        if doc is not None:
            last = _comparable(doc)
            if last == _expected(scenario, samples, utcnow()):
                alerts_expected = _expected_alerts(doc, utcnow())
                if await _open_alerts(procs["alerter"], scenario) == alerts_expected:
                    return doc
        if time.monotonic() - started > deadline_s:
            expected = _expected(scenario, samples, utcnow())
            assert last == expected, "numbers did not converge in time"
            assert await _open_alerts(procs["alerter"], scenario) == _expected_alerts(
                doc or {}, utcnow()
            )
            raise AssertionError("unreachable")
        await asyncio.sleep(0.05)


async def _sample_count(servers: Servers, scenario: Scenario) -> int:
    conn = await asyncpg.connect(servers.database_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM ingest.samples AS s "
                "JOIN ingest.tracked_posts AS p ON p.key = s.post_key WHERE p.org_id = $1",
                scenario.org_id,
            )
        )
    finally:
        await conn.close()


async def test_pipeline_exact_numbers_survive_shuffle_duplicates_late_samples_and_kill_9(
    processes: dict[str, ServiceProcess], servers: Servers
) -> None:
    rng = random.Random(11)
    scenario = build_scenario(utcnow())
    async with Bus(servers.amqp_url) as bus:
        events = list(scenario.events)
        rng.shuffle(events)  # catalog events in any order, like any other events
        for event in events:
            await bus.publish_event(scenario.org_id, event)
        # Let ingest learn the token and posts before items arrive; the rest stays unordered.
        await _wait_until_tracked(servers, scenario)

        pairs = list(zip(scenario.items, scenario.samples, strict=True))
        rng.shuffle(pairs)
        split = int(len(pairs) * 0.6)
        wave1, wave2 = pairs[:split], pairs[split:]
        # Late samples: the oldest fifth of wave one arrives last; duplicates are re-sent.
        wave1.sort(key=lambda p: p[1]["observed_at"])
        late, on_time = wave1[: len(wave1) // 5], wave1[len(wave1) // 5 :]
        rng.shuffle(on_time)
        repeats = rng.sample(on_time, k=len(on_time) // 6)
        sends = [p[0] for p in on_time + repeats + late]

        totals = await _send(scenario, sends, bus, processes["ingest"].url, rng)
        assert totals["rejected"] == 0
        wave1_samples = [p[1] for p in wave1]
        doc = await _await_numbers(processes, scenario, wave1_samples, DEADLINE_S)
        assert doc["campaign"]["actual_posts"] > 0
        assert _milestone_alerts(doc, utcnow()), "the scenario must raise under_kpi alerts"

        # Wave two, with the aggregator killed -9 a third of the way in and restarted later.
        items2 = [p[0] for p in wave2] + [p[0] for p in rng.sample(wave2, k=len(wave2) // 5)]
        third = len(items2) // 3
        await _send(scenario, items2[:third], bus, processes["ingest"].url, rng)
        processes["aggregator"].kill()
        await _send(scenario, items2[third:], bus, processes["ingest"].url, rng)
        processes["aggregator"].start()
        all_samples = [p[1] for p in pairs]
        await _await_numbers(processes, scenario, all_samples, DEADLINE_S + 10)

    # Nothing lost, nothing double-counted: one stored row per distinct sample.
    assert await _sample_count(servers, scenario) == len(all_samples)


async def _wait_until_tracked(
    servers: Servers, scenario: Scenario, posts: int | None = None
) -> None:
    conn = await asyncpg.connect(servers.database_url)
    try:
        for _ in range(200):
            tracked = await conn.fetchval(
                "SELECT count(*) FROM ingest.tracked_posts WHERE org_id = $1", scenario.org_id
            )
            token = await conn.fetchval(
                "SELECT count(*) FROM ingest.api_tokens WHERE org_id = $1", scenario.org_id
            )
            if tracked == (posts or len(scenario.posts)) and token == 1:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("ingest never learned the catalog")
    finally:
        await conn.close()


def test_every_service_serves_health_ready_metrics_and_asyncapi(
    processes: dict[str, ServiceProcess],
) -> None:
    for proc in processes.values():
        with httpx.Client(base_url=proc.url, timeout=5) as client:
            assert client.get("/health").json()["status"] == "ok"
            assert client.get("/ready").status_code == 200
            assert "pulse_http_requests" in client.get("/metrics").text
            asyncapi = client.get("/docs/asyncapi").json()
            assert asyncapi["asyncapi"].startswith("3."), asyncapi
            assert any(proc.service in name for name in asyncapi["channels"]), asyncapi["channels"]
            echoed = client.get("/health", headers={"X-Request-ID": "trace-me"})
            assert echoed.headers["X-Request-ID"] == "trace-me"


async def test_internal_reads_match_the_oracle_for_every_view(
    processes: dict[str, ServiceProcess], servers: Servers
) -> None:
    """Bookings, platforms, per-influencer daily series, summaries and compare winners."""
    rng = random.Random(5)
    first = build_scenario(utcnow(), seed=21)
    second = build_scenario(utcnow(), seed=22, raw_fixture=False)
    second.org_id = first.org_id  # two campaigns of one agency, to compare
    async with Bus(servers.amqp_url) as bus:
        second.token = first.token
        for event in first.events + second.events[2:]:  # the second's org and token: the first's
            await bus.publish_event(first.org_id, event)
        await _wait_until_tracked(servers, first, posts=len(first.posts) + len(second.posts))
        for scenario in (first, second):
            await _send(scenario, scenario.items, bus, processes["ingest"].url, rng)
    for scenario in (first, second):
        await _await_numbers(processes, scenario, scenario.samples, DEADLINE_S)

    now = utcnow()
    expected = oracle_numbers(first.campaign, first.bookings, first.posts, first.samples, now)
    base = f"/internal/orgs/{first.org_id}"
    cid = first.campaign["id"]
    async with httpx.AsyncClient(
        base_url=processes["aggregator"].url, headers=SERVICE_HEADERS, timeout=10
    ) as client:

        async def get(path: str, **params: str) -> Any:
            response = await client.get(path, params=params)
            assert response.status_code == 200, response.text
            return response.json()

        assert (await get(f"{base}/campaigns/{cid}/bookings"))["items"] == expected["bookings"]
        assert (await get(f"{base}/campaigns/{cid}/platforms"))["items"] == expected["platforms"]
        assert (await get(f"{base}/campaigns/{cid}/daily"))["items"] == expected["daily"]

        creator = first.bookings[1]
        mine = [p for p in first.posts if p["booking_id"] == creator["id"]]
        own = oracle_numbers(first.campaign, [creator], mine, first.samples, now)
        daily = await get(
            f"{base}/campaigns/{cid}/daily", influencer_id=str(creator["influencer_id"])
        )
        assert daily["items"] == own["daily"]
        assert daily["items"] != expected["daily"], "one creator's series is not the campaign's"

        ids = f"{cid},{second.campaign['id']}"
        summaries = (await get(f"{base}/campaigns", ids=ids))["items"]
        assert {s["campaign_id"]: s["actual_views"] for s in summaries} == {
            str(s.campaign["id"]): oracle_numbers(s.campaign, s.bookings, s.posts, s.samples, now)[
                "campaign"
            ]["actual_views"]
            for s in (first, second)
        }

        compared = await get(f"{base}/compare", ids=ids)
        views = {c["campaign_id"]: c["actual_views"] for c in compared["campaigns"]}
        assert compared["winners"]["actual_views"] == [max(views, key=views.__getitem__)]
        one = await client.get(f"{base}/compare", params={"ids": str(cid)})
        assert one.status_code == 422

        # Another organization's campaign answers 404, exactly like a missing one.
        stranger = f"/internal/orgs/{uuid4()}/campaigns/{cid}/numbers"
        assert (await client.get(stranger)).status_code == 404
    async with httpx.AsyncClient(base_url=processes["aggregator"].url) as anonymous:
        assert (await anonymous.get(f"{base}/campaigns/{cid}/numbers")).status_code == 401


async def _alerts_of(
    alerter: ServiceProcess, scenario: Scenario, status: str, type_: str
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=alerter.url, headers=SERVICE_HEADERS, timeout=5) as c:
        response = await c.get(
            f"/internal/orgs/{scenario.org_id}/alerts",
            params={"status": status, "campaign_id": str(scenario.campaign["id"])},
        )
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"] if a["type"] == type_]


async def test_stale_posts_resolve_when_their_samples_come_through_ingest(
    processes: dict[str, ServiceProcess], servers: Servers
) -> None:
    """The alerter takes no post.pulled: a post's newest sample time reaches its stale-data rule
    in the aggregator's kpi.updated. Posts registered 20 days ago with no sample are stale at
    once; their samples, sent to ingest as n8n sends them, resolve every one of those alerts."""
    scenario = build_scenario(utcnow(), seed=31, raw_fixture=False)
    alerter = processes["alerter"]
    async with Bus(servers.amqp_url) as bus:
        for event in scenario.events:
            await bus.publish_event(scenario.org_id, event)
        await _wait_until_tracked(servers, scenario)
        stale: list[dict[str, Any]] = []
        for _ in range(200):
            stale = await _alerts_of(alerter, scenario, "open", "stale_data")
            if len(stale) == len(scenario.posts):
                break
            await asyncio.sleep(0.05)
        assert {a["post_id"] for a in stale} == {str(p["id"]) for p in scenario.posts}
        assert {a["severity"] for a in stale} == {"critical"}  # 20 days without data

        # Every post's newest sample is under 10 h old: none is stale any more.
        await _send(scenario, scenario.items, bus, processes["ingest"].url, random.Random(31))
        resolved: list[dict[str, Any]] = []
        for _ in range(200):
            if not await _alerts_of(alerter, scenario, "open", "stale_data"):
                resolved = await _alerts_of(alerter, scenario, "resolved", "stale_data")
                break
            await asyncio.sleep(0.05)
    assert {a["post_id"] for a in resolved} == {str(p["id"]) for p in scenario.posts}
    assert {a["resolved_by"] for a in resolved} == {"system"}
