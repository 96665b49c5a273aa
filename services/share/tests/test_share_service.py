"""The share service as a real process on real PostgreSQL and RabbitMQ: catalog events and a
kpi.updated document in, links created through its internal API, opened anonymously."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from pypdf import PdfReader

from pulse_contracts import EventData, make_event, utcnow
from pulse_contracts.catalog import (
    BookingUpserted,
    CampaignDeleted,
    CampaignUpserted,
    ClientUpserted,
    Handle,
    InfluencerUpserted,
)
from pulse_contracts.forecast import DeliveryForecast, ForecastDay
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    DailyPoint,
    LatestCounters,
    PlatformSplit,
    PostNumbers,
    timeline_pct,
)
from pulse_runtime.db import create_pool
from pulse_runtime.media_proxy import MediaProxy
from pulse_share.links import new_token, unlock_key
from pulse_share.public import Limits, PublicConfig, SecurityHeaders, public_routes
from pulse_share.ratelimit import Rate, TokenBuckets
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, SERVICE_TOKEN, ServiceProcess, free_port

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
SHARE_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex",
    "cache-control": "private, no-store",
}
# Headers that legitimately differ between two otherwise identical answers.
PER_RESPONSE = {"x-request-id", "date"}

# Money no count on the page can reach: any of these in a response is a leak.
BUDGET = 987_654_321_09
FEE_MAYA, FEE_LEO = 876_543_210_98, 765_432_109_87
SPEND = FEE_MAYA + FEE_LEO
CPM, CPE = 43_219_876.543, 32_198_765.432
BOOKING_COMMITTED_VIEWS = 654_321_098_76


def _money_forms() -> set[str]:
    forms: set[str] = set()
    for cents in (BUDGET, FEE_MAYA, FEE_LEO, SPEND, BOOKING_COMMITTED_VIEWS):
        forms |= {str(cents), f"{cents:,}", f"{cents / 100:.2f}", f"{cents / 100:,.2f}"}
    for cost in (CPM, CPE):
        forms |= {repr(cost), f"{cost:.2f}", f"{cost:,.2f}"}
    return forms


@dataclass
class World:
    org_id: UUID = field(default_factory=uuid4)
    client_id: UUID = field(default_factory=uuid4)
    campaign_id: UUID = field(default_factory=uuid4)
    maya: UUID = field(default_factory=uuid4)
    leo: UUID = field(default_factory=uuid4)
    booking_maya: UUID = field(default_factory=uuid4)
    booking_leo: UUID = field(default_factory=uuid4)
    post_ids: list[UUID] = field(default_factory=lambda: [uuid4(), uuid4()])
    doc: CampaignNumbers | None = None

    @property
    def ids(self) -> list[UUID]:
        return [
            self.org_id,
            self.client_id,
            self.campaign_id,
            self.maya,
            self.leo,
            self.booking_maya,
            self.booking_leo,
            *self.post_ids,
        ]


STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def catalog_events(w: World, start: date, end: date) -> list[EventData]:
    return [
        ClientUpserted(
            id=w.client_id,
            name="Lumière Cosmetics",
            brand_color="#C2185B",
            logo_url="https://brand.example/lumiere.png",
            updated_at=STAMP,
        ),
        CampaignUpserted(
            id=w.campaign_id,
            client_id=w.client_id,
            name="Glow Serum Launch",
            status="live",
            start_date=start,
            end_date=end,
            budget_cents=BUDGET,
            currency="EUR",
            committed_views=2_000_000,
            committed_engagement=150_000,
            updated_at=STAMP,
        ),
        InfluencerUpserted(
            id=w.maya,
            display_name="Maya Styles",
            avatar_url="https://p16.tiktokcdn.com/maya.jpeg",
            tier="macro",
            handles=[Handle(platform="tiktok", handle="maya.styles", followers=1_200_000)],
            updated_at=STAMP,
        ),
        InfluencerUpserted(
            id=w.leo,
            display_name="Leo Runs",
            tier="micro",
            handles=[Handle(platform="instagram", handle="leo.runs", followers=80_000)],
            updated_at=STAMP,
        ),
        BookingUpserted(
            id=w.booking_maya,
            campaign_id=w.campaign_id,
            influencer_id=w.maya,
            fee_cents=FEE_MAYA,
            committed_views=BOOKING_COMMITTED_VIEWS,
            committed_posts=2,
            min_engagement_rate=3.1415,
            updated_at=STAMP,
        ),
        BookingUpserted(
            id=w.booking_leo,
            campaign_id=w.campaign_id,
            influencer_id=w.leo,
            fee_cents=FEE_LEO,
            committed_posts=1,
            updated_at=STAMP,
        ),
    ]


def kpi_document(w: World, start: date, end: date, as_of: datetime) -> CampaignNumbers:
    latest = LatestCounters(
        views=1_234_567,
        likes=98_765,
        comments=4_321,
        shares=1_234,
        saves=567,
        observed_at=as_of,
        engagement=104_887,
    )
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=w.campaign_id,
            client_id=w.client_id,
            name="Glow Serum Launch",
            status="live",
            start_date=start,
            end_date=end,
            currency="EUR",
            budget_cents=BUDGET,
            spend_cents=SPEND,
            committed_views=2_000_000,
            committed_engagement=150_000,
            committed_posts=3,
            actual_views=1_456_789,
            actual_engagement=118_642,
            actual_posts=2,
            views_pct=72.84,
            engagement_pct=79.09,
            posts_pct=66.67,
            kpi_pct=66.67,
            engagement_rate=8.14,
            cpm=CPM,
            cpe=CPE,
            timeline_pct=50.0,
        ),
        bookings=[
            BookingNumbers(
                booking_id=w.booking_maya,
                influencer_id=w.maya,
                fee_cents=FEE_MAYA,
                committed_views=BOOKING_COMMITTED_VIEWS,
                committed_posts=2,
                actual_views=1_234_567,
                actual_engagement=104_887,
                actual_posts=1,
                engagement_rate=8.5,
                cpm=CPM,
                cpe=CPE,
                min_engagement_rate=3.1415,
            ),
            BookingNumbers(
                booking_id=w.booking_leo,
                influencer_id=w.leo,
                fee_cents=FEE_LEO,
                committed_posts=1,
                actual_views=222_222,
                actual_engagement=13_755,
                actual_posts=1,
            ),
        ],
        posts=[
            PostNumbers(
                post_id=w.post_ids[0],
                booking_id=w.booking_maya,
                influencer_id=w.maya,
                platform="tiktok",
                url="https://www.tiktok.com/@maya.styles/video/7433917265401856302",
                caption="My glow routine",
                thumb_url="https://p16-sign.tiktokcdn.com/cover.jpeg",
                posted_at=as_of - timedelta(days=2),
                latest=latest,
            ),
            PostNumbers(
                post_id=w.post_ids[1],
                booking_id=w.booking_leo,
                influencer_id=w.leo,
                platform="instagram",
                url="https://www.instagram.com/p/Cabc/",
                thumb_url="https://not-a-cdn.example/cover.jpg",
            ),
        ],
        daily=[
            DailyPoint(
                date=start + timedelta(days=i),
                views_cum=v,
                views_delta=v - p,
                engagement_cum=e,
                engagement_delta=e - q,
                posts_live=1 + (i > 0),
            )
            for i, (p, v, q, e) in enumerate(
                [(0, 400_000, 0, 30_000), (400_000, 1_456_789, 30_000, 118_642)]
            )
        ],
        platforms=[
            PlatformSplit(platform="tiktok", views=1_234_567, engagement=104_887),
            PlatformSplit(platform="instagram", views=222_222, engagement=13_755),
        ],
        as_of=as_of,
    )


async def publish(bus: Bus, org_id: UUID, data: EventData) -> UUID:
    """Like Bus.publish_event, but returns the event id to wait for in share's inbox."""
    envelope = make_event(data, org_id=org_id, producer="test")
    exchange = await bus.channel.get_exchange("pulse.events")
    await exchange.publish(
        aio_pika.Message(
            envelope.model_dump_json().encode(),
            message_id=str(envelope.event_id),
            correlation_id=envelope.correlation_id,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=envelope.type,
    )
    return envelope.event_id


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def _share(service_env: dict[str, str], **limits: str) -> ServiceProcess:
    port = free_port()
    env = {
        **service_env,
        "PULSE_SHARE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **{f"PULSE_SHARE_{k.upper()}": v for k, v in limits.items()},
    }
    proc = ServiceProcess("share", env, LOGS, port=port)
    proc.start()
    return proc


@pytest.fixture(scope="module")
def reporter(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    """The report worker: the client's PDF is a job it renders."""
    proc = ServiceProcess("reporter", service_env, LOGS)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def share(service_env: dict[str, str], reporter: ServiceProcess) -> Iterator[ServiceProcess]:
    proc = _share(
        service_env,
        rate_address_burst="100000",
        rate_link_burst="100000",
        rate_unlock_burst="1000",
        reporter_url=reporter.url,
    )
    yield proc
    proc.stop()


async def prepared_pdf(
    client: httpx.AsyncClient, token: str, *, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, int]:
    """GET the link's PDF as a browser does: "Preparing your report…" (202, answered at once
    and refreshing itself) until the same URL answers the PDF. Also: how many asks it took."""
    deadline = time.monotonic() + 240
    asks = 0
    while True:
        asks += 1
        started = time.monotonic()
        r = await client.get(f"/share/{token}/report.pdf", headers=headers)
        if r.status_code != 202:
            return r, asks
        assert time.monotonic() - started < 5, "a preparing answer must not wait for the render"
        assert "Preparing your report" in r.text
        assert r.headers["refresh"] == "2"
        assert_share_headers(r)
        assert time.monotonic() < deadline, "the PDF was not prepared in 240 s"
        await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
async def db(servers: Servers) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(servers.database_url)
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
async def bus(servers: Servers, share: ServiceProcess) -> AsyncIterator[Bus]:
    async with Bus(servers.amqp_url) as connected:
        yield connected


async def projected(db: asyncpg.Connection, campaign_id: UUID) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM share.campaigns WHERE campaign_id = $1", campaign_id)


async def handled(db: asyncpg.Connection, event_id: UUID) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM share.inbox WHERE event_id = $1", event_id))


@pytest.fixture(scope="module")
async def world(bus: Bus, db: asyncpg.Connection) -> World:
    w = World()
    today = utcnow().date()
    start, end = today - timedelta(days=7), today + timedelta(days=7)
    for event in catalog_events(w, start, end):
        await bus.publish_event(w.org_id, event)
    w.doc = kpi_document(w, start, end, utcnow() - timedelta(minutes=1))
    await bus.publish_event(w.org_id, w.doc)
    doc = w.doc

    async def ready() -> bool:
        row = await projected(db, w.campaign_id)
        return bool(
            row
            and row["numbers_as_of"] == doc.as_of
            and row["client_brand_color"] == "#C2185B"
            and "Leo Runs" in str(row["influencers"])
        )

    await eventually(ready)
    return w


@pytest.fixture
async def internal(share: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"X-Pulse-Service-Token": SERVICE_TOKEN}
    async with httpx.AsyncClient(base_url=share.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
async def anonymous(share: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=share.url, timeout=10) as client:
        yield client


async def create_link(internal: httpx.AsyncClient, w: World, **body: Any) -> dict[str, Any]:
    r = await internal.post(
        f"/internal/orgs/{w.org_id}/share-links",
        json={"campaign_id": str(w.campaign_id), "created_by": str(uuid4()), **body},
    )
    assert r.status_code == 201, r.text
    link: dict[str, Any] = r.json()
    return link


def assert_share_headers(r: httpx.Response) -> None:
    for name, value in SHARE_HEADERS.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers.get(name))
    csp = r.headers.get("content-security-policy", "")
    assert csp.startswith("default-src 'none'"), csp
    assert "unsafe-eval" not in csp
    assert "script-src" not in csp


def assert_no_leak(text: str, w: World, *extra_ids: UUID) -> None:
    leaked = [m for m in _money_forms() if m in text]
    leaked += [str(i) for i in (*w.ids, *extra_ids) if str(i) in text or i.hex in text]
    assert leaked == [], leaked


# --- the tests --------------------------------------------------------------------------------


async def test_a_link_shows_the_documents_numbers_to_the_unit_and_no_money(
    world: World, internal: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    link = await create_link(internal, world)
    token = link["token"]
    assert len(token) == 43
    assert link["url"].endswith(f"/share/{token}")
    assert link["state"] == "active"
    # Only the token's SHA-256 is stored, nowhere the token itself.
    row = await db.fetchrow("SELECT * FROM share.links WHERE id = $1", UUID(link["id"]))
    assert row is not None
    assert row["token_sha256"] == hashlib.sha256(token.encode()).digest()
    assert token not in str(dict(row))

    before = utcnow()
    r = await anonymous.get(f"/api/share/{token}")
    after = utcnow()
    assert r.status_code == 200, r.text
    assert_share_headers(r)
    assert_no_leak(r.text, world, UUID(link["id"]))
    body = r.json()
    assert world.doc is not None
    c = world.doc.campaign
    kpis = body["kpis"]
    for name in (
        "committed_views",
        "committed_engagement",
        "committed_posts",
        "actual_views",
        "actual_engagement",
        "actual_posts",
        "views_pct",
        "engagement_pct",
        "posts_pct",
        "kpi_pct",
        "engagement_rate",
    ):
        assert kpis[name] == getattr(c, name), name
    assert c.start_date is not None
    assert c.end_date is not None
    low, high = (timeline_pct(c.start_date, c.end_date, t) for t in (before, after))
    assert low is not None
    assert high is not None
    assert low <= kpis["timeline_pct"] <= high
    assert body["campaign"] == {
        "name": "Glow Serum Launch",
        "status": "live",
        "start_date": c.start_date.isoformat(),
        "end_date": c.end_date.isoformat(),
    }
    assert body["client"] == {
        "name": "Lumière Cosmetics",
        "brand_color": "#C2185B",
        "logo_url": "https://brand.example/lumiere.png",
    }
    assert body["platforms"] == [p.model_dump(mode="json") for p in world.doc.platforms]
    assert body["daily"][:2] == [d.model_dump(mode="json") for d in world.doc.daily]
    maya, leo = body["influencers"]
    assert (maya["display_name"], maya["actual_views"], maya["engagement_rate"]) == (
        "Maya Styles",
        1_234_567,
        8.5,
    )
    assert maya["posts"][0]["thumb_url"] == "https://p16-sign.tiktokcdn.com/cover.jpeg"
    assert leo["posts"][0]["thumb_url"] is None  # not a platform CDN

    page = await anonymous.get(f"/share/{token}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert_share_headers(page)
    html = page.text
    assert "Glow Serum Launch" in html
    assert "1,456,789" in html  # actual views
    assert "2,000,000" in html  # committed views
    assert "72.84%" in html
    assert "Maya Styles" in html
    assert "<script" not in html.lower()
    assert_no_leak(html, world, UUID(link["id"]))
    assert "style-src 'sha256-" in page.headers["content-security-policy"]


async def test_every_view_is_counted_and_logged(
    world: World, internal: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    link = await create_link(internal, world)
    link_id = UUID(link["id"])
    assert (
        await anonymous.get(f"/share/{link['token']}", headers={"User-Agent": "Safari/17"})
    ).is_success
    assert (
        await anonymous.get(f"/api/share/{link['token']}", headers={"User-Agent": "curl/8"})
    ).is_success

    row = await db.fetchrow(
        "SELECT view_count, last_viewed_at FROM share.links WHERE id = $1", link_id
    )
    assert row is not None
    assert row["view_count"] == 2
    assert row["last_viewed_at"] is not None
    log = await db.fetch(
        "SELECT address, user_agent, surface, outcome FROM share.access_log "
        "WHERE link_id = $1 ORDER BY id",
        link_id,
    )
    assert [tuple(r) for r in log] == [
        ("127.0.0.0/24", "Safari/17", "page", "viewed"),
        ("127.0.0.0/24", "curl/8", "json", "viewed"),
    ]
    listed = await internal.get(
        f"/internal/orgs/{world.org_id}/campaigns/{world.campaign_id}/share-links"
    )
    mine = next(i for i in listed.json()["items"] if i["id"] == link["id"])
    assert (mine["view_count"], mine["state"]) == (2, "active")
    assert mine["last_viewed_at"] is not None
    assert "token" not in mine


# --- group commit of the views (view_log.py) --------------------------------------------------


async def test_concurrent_views_are_counted_exactly_and_stored_before_each_answer(
    world: World, internal: httpx.AsyncClient, servers: Servers, db: asyncpg.Connection
) -> None:
    links = [await create_link(internal, world) for _ in range(3)]
    asks = [0] * 30 + [1] * 20 + [2] * 10  # link index of each request
    checks = await create_pool(servers.database_url, min_size=4, max_size=16)
    stored_on_answer: list[bool] = []
    share_url = str(internal.base_url)
    limits = httpx.Limits(max_connections=len(asks))
    try:
        async with httpx.AsyncClient(base_url=share_url, timeout=30, limits=limits) as client:

            async def view(i: int, which: int) -> int:
                route = "/api/share/{}" if i % 3 else "/share/{}"
                r = await client.get(
                    route.format(links[which]["token"]), headers={"User-Agent": f"viewer-{i}"}
                )
                if r.status_code == 200:
                    # The moment the answer arrives, its view is already in the database.
                    async with checks.acquire() as conn:
                        n = await conn.fetchval(
                            "SELECT count(*) FROM share.access_log WHERE link_id = $1 "
                            "AND user_agent = $2 AND outcome = 'viewed'",
                            UUID(links[which]["id"]),
                            f"viewer-{i}",
                        )
                    stored_on_answer.append(n == 1)
                return r.status_code

            statuses = await asyncio.gather(*(view(i, w) for i, w in enumerate(asks)))
    finally:
        await checks.close()
    assert statuses == [200] * len(asks)
    assert stored_on_answer == [True] * len(asks)

    ids = [UUID(link["id"]) for link in links]
    rows = await db.fetch(
        "SELECT link_id, user_agent, at, xmin::text::bigint AS tx FROM share.access_log "
        "WHERE link_id = ANY($1)",
        ids,
    )
    # One access-log row per view, none lost, none doubled.
    assert sorted(r["user_agent"] for r in rows) == sorted(f"viewer-{i}" for i in range(60))
    for which, link_id in enumerate(ids):
        mine = [r for r in rows if r["link_id"] == link_id]
        counted = await db.fetchrow(
            "SELECT view_count, last_viewed_at, xmin::text::bigint AS tx "
            "FROM share.links WHERE id = $1",
            link_id,
        )
        assert counted is not None
        assert counted["view_count"] == asks.count(which) == len(mine)
        assert counted["last_viewed_at"] == max(r["at"] for r in mine)
        # The count was last raised in a transaction that also wrote this link's log rows.
        assert counted["tx"] in {r["tx"] for r in mine}
    # Written in batches: views that arrived together share a transaction.
    assert len({r["tx"] for r in rows}) < len(rows)


async def test_a_failed_batch_answers_none_of_its_views_and_writes_none_of_them(
    world: World,
    internal: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    servers: Servers,
    db: asyncpg.Connection,
) -> None:
    link = await create_link(internal, world)
    link_id, url = UUID(link["id"]), f"/api/share/{link['token']}"
    # A database error for one view only: its log row breaks a constraint (test-only, dropped).
    await db.execute(
        "ALTER TABLE share.access_log ADD CONSTRAINT test_refuses CHECK "
        "(user_agent <> 'refused') NOT VALID"
    )
    holder = await asyncpg.connect(servers.database_url)
    try:
        # The writer's first batch is held behind a lock, so the next two views arrive while
        # it runs and make the next batch together.
        hold = holder.transaction()
        await hold.start()
        await holder.execute("LOCK TABLE share.access_log IN SHARE MODE")
        first = asyncio.create_task(anonymous.get(url, headers={"User-Agent": "first"}))

        held_by = await holder.fetchval("SELECT pg_backend_pid()")

        async def writer_waits() -> bool:
            return bool(
                await db.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                    held_by,
                )
            )

        await eventually(writer_waits)
        refused = asyncio.create_task(anonymous.get(url, headers={"User-Agent": "refused"}))
        beside = asyncio.create_task(anonymous.get(url, headers={"User-Agent": "beside"}))
        await asyncio.sleep(1.0)  # both looked up and waiting for the writer
        await hold.commit()
        answers = [await first, await refused, await beside]
    finally:
        await holder.close()
        await db.execute("ALTER TABLE share.access_log DROP CONSTRAINT IF EXISTS test_refuses")

    assert [a.status_code for a in answers] == [200, 500, 500]
    assert answers[1].json()["error"]["code"] == "internal_error"
    # Nothing of the failed batch was written: not its log rows, not its counts.
    log = await db.fetch(
        "SELECT user_agent FROM share.access_log WHERE link_id = $1 ORDER BY id", link_id
    )
    assert [r["user_agent"] for r in log] == ["first"]
    assert await db.fetchval("SELECT view_count FROM share.links WHERE id = $1", link_id) == 1
    # And the writer goes on: the next view is answered and stored.
    assert (await anonymous.get(url, headers={"User-Agent": "after"})).status_code == 200
    assert await db.fetchval("SELECT view_count FROM share.links WHERE id = $1", link_id) == 2


async def test_revocation_takes_effect_on_the_very_next_view_under_load(
    world: World, internal: httpx.AsyncClient, servers: Servers, db: asyncpg.Connection
) -> None:
    link = await create_link(internal, world)
    url = f"/api/share/{link['token']}"
    revoked_at: list[float] = []
    answers: list[tuple[float, float, int]] = []  # (sent, answered, status)

    async with httpx.AsyncClient(base_url=str(internal.base_url), timeout=30) as client:

        async def keep_viewing() -> None:
            while not revoked_at or time.monotonic() < revoked_at[0] + 0.5:
                sent = time.monotonic()
                r = await client.get(url)
                answers.append((sent, time.monotonic(), r.status_code))

        viewers = [asyncio.create_task(keep_viewing()) for _ in range(8)]
        await asyncio.sleep(0.5)
        r = await internal.delete(f"/internal/orgs/{world.org_id}/share-links/{link['id']}")
        assert r.status_code == 200
        revoked_at.append(time.monotonic())
        await asyncio.gather(*viewers)

    after = [status for sent, _, status in answers if sent > revoked_at[0]]
    before = [status for _, answered, status in answers if answered < revoked_at[0]]
    assert after
    assert set(after) == {404}, "a view sent after the revocation was answered"
    assert before
    assert set(before) == {200}
    # Every view answered 200 is counted, once.
    shown = sum(1 for _, _, status in answers if status == 200)
    row = await db.fetchrow("SELECT view_count FROM share.links WHERE id = $1", UUID(link["id"]))
    assert row is not None
    assert row["view_count"] == shown


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_the_report_pdf_is_the_page_printed_under_the_same_rules(
    world: World, internal: httpx.AsyncClient, share: ServiceProcess, db: asyncpg.Connection
) -> None:
    link = await create_link(internal, world)
    token, link_id = link["token"], UUID(link["id"])
    async with httpx.AsyncClient(base_url=share.url, timeout=60) as anonymous:
        page = await anonymous.get(f"/share/{token}", headers={"User-Agent": "Safari/17"})
        assert page.status_code == 200
        assert f'href="/share/{token}/report.pdf"' in page.text  # the download link

        r, asks = await prepared_pdf(anonymous, token, headers={"User-Agent": "Preview/1"})
        assert asks >= 2  # the first ask found no PDF yet: it was prepared, not rendered inline
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == 'inline; filename="glow-serum-launch-report.pdf"'
        assert_share_headers(r)
        assert r.content.startswith(b"%PDF-")
        text = _pdf_text(r.content)
        assert "Glow Serum Launch" in text
        assert "Lumière Cosmetics" in text
        assert "1,456,789" in text  # actual views, formatted as on the page
        assert "2,000,000" in text  # committed views
        assert "72.84%" in text
        assert "Maya Styles" in text
        assert "Password" not in text
        assert_no_leak(text, world, link_id)
        assert_no_leak(r.content.decode("latin-1"), world, link_id)

        # The PDF is a view: counted, and logged as its own surface (each ask while it was
        # being prepared too: the link was opened each time).
        row = await db.fetchrow("SELECT view_count FROM share.links WHERE id = $1", link_id)
        assert row is not None
        assert row["view_count"] == 1 + asks
        log = await db.fetch(
            "SELECT user_agent, surface, outcome FROM share.access_log "
            "WHERE link_id = $1 ORDER BY id",
            link_id,
        )
        assert [tuple(r) for r in log] == [
            ("Safari/17", "page", "viewed"),
            *[("Preview/1", "pdf", "viewed")] * asks,
        ]
        # Every ask for the same numbers found the same job: rendered once.
        jobs = await db.fetchval(
            "SELECT count(*) FROM share.report_jobs WHERE link_id = $1", link_id
        )
        assert jobs == 1

        # Unknown and revoked tokens: the page's very own 404.
        revoked = await create_link(internal, world)
        deleted = await internal.delete(
            f"/internal/orgs/{world.org_id}/share-links/{revoked['id']}"
        )
        assert deleted.status_code == 200
        unknown = new_token()[0]
        _assert_identical(
            {
                "page": await anonymous.get(f"/share/{unknown}"),
                "unknown": await anonymous.get(f"/share/{unknown}/report.pdf"),
                "revoked": await anonymous.get(f"/share/{revoked['token']}/report.pdf"),
            }
        )

    locked = await create_link(internal, world, password="print it please")
    locked_id = UUID(locked["id"])
    async with httpx.AsyncClient(base_url=share.url, timeout=60) as browser:
        r = await browser.get(f"/share/{locked['token']}/report.pdf")
        assert r.status_code == 401
        assert_share_headers(r)
        assert f'action="/share/{locked["token"]}/unlock"' in r.text
        assert not r.content.startswith(b"%PDF")
        right = await browser.post(
            f"/share/{locked['token']}/unlock", json={"password": "print it please"}
        )
        assert right.status_code == 200
        # The cookie covers it.
        r, unlocked_asks = await prepared_pdf(browser, locked["token"])
        assert r.status_code == 200
        assert r.content.startswith(b"%PDF-")
        assert "Glow Serum Launch" in _pdf_text(r.content)
    outcomes = await db.fetch(
        "SELECT surface, outcome FROM share.access_log WHERE link_id = $1 ORDER BY id", locked_id
    )
    assert [tuple(r) for r in outcomes] == [
        ("pdf", "locked"),
        ("unlock", "unlocked"),
        *[("pdf", "viewed")] * unlocked_asks,
    ]
    views = await db.fetchval("SELECT view_count FROM share.links WHERE id = $1", locked_id)
    assert views == unlocked_asks


async def test_unknown_expired_revoked_and_deleted_links_answer_the_same_404(
    world: World,
    internal: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    bus: Bus,
    db: asyncpg.Connection,
) -> None:
    revoked = await create_link(internal, world)
    expiring = await create_link(
        internal, world, expires_at=(utcnow() + timedelta(seconds=1.5)).isoformat()
    )
    for link in (revoked, expiring):
        assert (await anonymous.get(f"/api/share/{link['token']}")).status_code == 200

    r = await internal.delete(f"/internal/orgs/{world.org_id}/share-links/{revoked['id']}")
    assert r.status_code == 200
    assert r.json()["state"] == "revoked"
    # Revocation takes effect on the very next request.
    assert (await anonymous.get(f"/api/share/{revoked['token']}")).status_code == 404
    # Another organization cannot revoke (or even see) it.
    assert (
        await internal.delete(f"/internal/orgs/{uuid4()}/share-links/{expiring['id']}")
    ).status_code == 404

    # A link to a campaign that is then deleted.
    other = World(org_id=world.org_id)
    today = utcnow().date()
    event_id = await publish(
        bus,
        other.org_id,
        CampaignUpserted(
            id=other.campaign_id,
            client_id=world.client_id,
            name="Short Lived",
            status="live",
            start_date=today,
            end_date=today,
            updated_at=STAMP,
        ),
    )
    await eventually(lambda: handled(db, event_id))
    deleted = await create_link(internal, other)
    assert (await anonymous.get(f"/api/share/{deleted['token']}")).status_code == 200
    event_id = await publish(
        bus, other.org_id, CampaignDeleted(id=other.campaign_id, deleted_at=utcnow())
    )
    await eventually(lambda: handled(db, event_id))

    expires_at = datetime.fromisoformat(expiring["expires_at"])
    await asyncio.sleep(max(0.0, (expires_at - utcnow()).total_seconds()) + 0.05)
    tokens = {
        "unknown": new_token()[0],
        "expired": expiring["token"],
        "revoked": revoked["token"],
        "deleted": deleted["token"],
    }
    for route in ("/api/share/{}", "/share/{}"):
        answers = {kind: await anonymous.get(route.format(t)) for kind, t in tokens.items()}
        _assert_identical(answers)
    unlocks = {
        kind: await anonymous.post(f"/share/{t}/unlock", json={"password": "whatever it is"})
        for kind, t in tokens.items()
    }
    _assert_identical(unlocks)

    listed = await internal.get(
        f"/internal/orgs/{world.org_id}/campaigns/{world.campaign_id}/share-links"
    )
    states = {i["id"]: i["state"] for i in listed.json()["items"]}
    assert states[revoked["id"]] == "revoked"
    assert states[expiring["id"]] == "expired"


def _assert_identical(answers: dict[str, httpx.Response]) -> None:
    first = next(iter(answers.values()))
    assert first.status_code == 404
    assert_share_headers(first)
    for kind, r in answers.items():
        assert r.status_code == first.status_code, kind
        assert r.content == first.content, kind
        headers = {k: v for k, v in r.headers.items() if k not in PER_RESPONSE}
        expected = {k: v for k, v in first.headers.items() if k not in PER_RESPONSE}
        assert headers == expected, kind


async def test_views_are_answered_while_an_unlock_password_is_being_checked(
    world: World, internal: httpx.AsyncClient, share: ServiceProcess, db: asyncpg.Connection
) -> None:
    """The check runs on share's password threads (pulse_runtime.passwords), so the viewers
    of other links are not kept waiting behind it: it used to run on the event loop."""
    open_link = await create_link(internal, world)
    locked = await create_link(internal, world, password="open sesame 42")
    # A hash far costlier than Pulse's own (256 MiB, four passes: about a second here), so the
    # check outlasts a view many times over.
    slow = PasswordHasher(time_cost=4, memory_cost=256 * 1024, parallelism=1)
    await db.execute(
        "UPDATE share.links SET password_hash = $2 WHERE id = $1",
        UUID(locked["id"]),
        slow.hash("open sesame 42"),
    )
    answered: list[str] = []

    async def unlock(browser: httpx.AsyncClient) -> httpx.Response:
        r = await browser.post(
            f"/share/{locked['token']}/unlock", json={"password": "open sesame 42"}
        )
        answered.append("unlock")
        return r

    async def view(viewer: httpx.AsyncClient) -> httpx.Response:
        await asyncio.sleep(0.3)  # the unlock's check is under way
        r = await viewer.get(f"/api/share/{open_link['token']}")
        answered.append("view")
        return r

    async with (
        httpx.AsyncClient(base_url=share.url, timeout=30) as browser,
        httpx.AsyncClient(base_url=share.url, timeout=30) as viewer,
    ):
        unlocked, viewed = await asyncio.gather(unlock(browser), view(viewer))
    assert unlocked.status_code == 200, unlocked.text
    assert viewed.status_code == 200, viewed.text
    assert answered == ["view", "unlock"]


async def test_a_password_protects_the_link_until_unlocked(
    world: World, internal: httpx.AsyncClient, share: ServiceProcess, db: asyncpg.Connection
) -> None:
    link = await create_link(internal, world, password="open sesame 42")
    other = await create_link(internal, world, password="another secret")
    token = link["token"]
    assert link["has_password"] is True
    stored = await db.fetchval(
        "SELECT password_hash FROM share.links WHERE id = $1", UUID(link["id"])
    )
    assert stored.startswith("$argon2id$")

    async with httpx.AsyncClient(base_url=share.url, timeout=10) as browser:
        locked = await browser.get(f"/api/share/{token}")
        assert locked.status_code == 401
        assert locked.json()["error"]["code"] == "password_required"
        page = await browser.get(f"/share/{token}")
        assert page.status_code == 401
        assert f'action="/share/{token}/unlock"' in page.text
        # The client's name and colours, and nothing of the campaign, before the password.
        assert "Lumière Cosmetics" in page.text
        assert "--brand:#C2185B" in page.text
        assert "Glow Serum Launch" not in page.text
        assert_share_headers(page)

        wrong = await browser.post(f"/share/{token}/unlock", json={"password": "open sesame 43"})
        assert wrong.status_code == 401
        assert_share_headers(wrong)
        assert "set-cookie" not in wrong.headers
        assert (await browser.get(f"/api/share/{token}")).status_code == 401

        right = await browser.post(f"/share/{token}/unlock", json={"password": "open sesame 42"})
        assert right.status_code == 200, right.text
        cookies = right.headers.get_list("set-cookie")
        assert len(cookies) == 2
        paths = set()
        for cookie in cookies:
            attrs = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")}
            assert "httponly" in attrs
            assert "samesite" in attrs
            assert 0 < int(attrs["max-age"].split("=")[1]) <= 3600
            paths.add(attrs["path"].split("=")[1])
        assert paths == {f"/share/{token}", f"/api/share/{token}"}
        assert (await browser.get(f"/api/share/{token}")).status_code == 200
        assert (await browser.get(f"/share/{token}")).status_code == 200
        # The cookie opens this link only.
        cookie = next(c.value for c in browser.cookies.jar if c.name == "pulse_share_unlock")
        async with httpx.AsyncClient(base_url=share.url, timeout=10) as thief:
            stolen = {"Cookie": f"pulse_share_unlock={cookie}"}
            assert (await thief.get(f"/api/share/{token}", headers=stolen)).status_code == 200
            assert (
                await thief.get(f"/api/share/{other['token']}", headers=stolen)
            ).status_code == 401

    async with httpx.AsyncClient(base_url=share.url, timeout=10) as browser:  # the page's own form
        form = await browser.post(f"/share/{token}/unlock", data={"password": "nope nope"})
        assert form.status_code == 401
        assert "not right" in form.text
        assert "Lumière Cosmetics" in form.text
        form = await browser.post(f"/share/{token}/unlock", data={"password": "open sesame 42"})
        assert form.status_code == 303
        assert form.headers["location"] == f"/share/{token}"
        assert "Glow Serum Launch" in (await browser.get(f"/share/{token}")).text

    outcomes = await db.fetch(
        "SELECT surface, outcome FROM share.access_log WHERE link_id = $1 ORDER BY id",
        UUID(link["id"]),
    )
    assert [tuple(r) for r in outcomes].count(("unlock", "wrong_password")) == 2
    assert ("page", "locked") in [tuple(r) for r in outcomes]
    views = await db.fetchval("SELECT view_count FROM share.links WHERE id = $1", UUID(link["id"]))
    assert views == 4  # two before the form, the copied cookie, the form: locked ones are not views


async def test_bad_input_to_the_internal_and_public_routes(
    world: World, internal: httpx.AsyncClient, anonymous: httpx.AsyncClient, share: ServiceProcess
) -> None:
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    r = await internal.post(
        f"/internal/orgs/{world.org_id}/share-links",
        json={"campaign_id": str(world.campaign_id), "expires_at": past},
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["path"] == "expires_at"
    r = await internal.post(
        f"/internal/orgs/{world.org_id}/share-links",
        json={"campaign_id": str(world.campaign_id), "password": "short"},
    )
    assert r.status_code == 422
    # The internal routes need the service token.
    r = await anonymous.get(
        f"/internal/orgs/{world.org_id}/campaigns/{world.campaign_id}/share-links"
    )
    assert r.status_code == 401
    assert_share_headers(r)
    link = await create_link(internal, world, password="open sesame 42")
    r = await anonymous.post(f"/share/{link['token']}/unlock", content=b"not json")
    assert r.status_code == 422
    assert_share_headers(r)
    for path in ("/health", "/ready", "/metrics", "/openapi.json"):
        assert_share_headers(await anonymous.get(path))


async def test_catalog_and_kpi_copies_keep_the_newer_version(
    world: World,
    bus: Bus,
    db: asyncpg.Connection,
    internal: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
) -> None:
    assert world.doc is not None
    link = await create_link(internal, world)

    def client(color: str, at: datetime) -> ClientUpserted:
        return ClientUpserted(
            id=world.client_id, name="Lumière Cosmetics", brand_color=color, updated_at=at
        )

    # Newer client copy: the projection is rebuilt with it.
    newer = await publish(bus, world.org_id, client("#00897B", STAMP + timedelta(days=2)))
    await eventually(lambda: handled(db, newer))
    assert (await anonymous.get(f"/api/share/{link['token']}")).json()["client"][
        "brand_color"
    ] == "#00897B"
    # An older one arriving late changes nothing.
    older = await publish(bus, world.org_id, client("#FFEB3B", STAMP + timedelta(days=1)))
    await eventually(lambda: handled(db, older))
    assert (await anonymous.get(f"/api/share/{link['token']}")).json()["client"][
        "brand_color"
    ] == "#00897B"

    # Numbers: a newer document replaces, an older one is ignored.
    fresher = world.doc.model_copy(
        update={
            "campaign": world.doc.campaign.model_copy(update={"actual_views": 1_500_000}),
            "as_of": world.doc.as_of + timedelta(seconds=30),
        }
    )
    event_id = await publish(bus, world.org_id, fresher)
    await eventually(lambda: handled(db, event_id))
    assert (await anonymous.get(f"/api/share/{link['token']}")).json()["kpis"][
        "actual_views"
    ] == 1_500_000
    event_id = await publish(bus, world.org_id, world.doc)  # the original, older document
    await eventually(lambda: handled(db, event_id))
    assert (await anonymous.get(f"/api/share/{link['token']}")).json()["kpis"][
        "actual_views"
    ] == 1_500_000

    # A renamed creator shows on the next view.
    event_id = await publish(
        bus,
        world.org_id,
        InfluencerUpserted(
            id=world.leo, display_name="Leo Sprints", tier="micro", updated_at=STAMP + timedelta(1)
        ),
    )
    await eventually(lambda: handled(db, event_id))
    names = [
        i["display_name"]
        for i in (await anonymous.get(f"/api/share/{link['token']}")).json()["influencers"]
    ]
    assert "Leo Sprints" in names


async def test_rate_limits_per_link_and_per_address(
    world: World, internal: httpx.AsyncClient, service_env: dict[str, str]
) -> None:
    limited = _share(
        service_env,
        rate_address_burst="6",
        rate_address_per_s="0.01",
        rate_link_burst="3",
        rate_link_per_s="0.01",
    )
    try:
        first, second = await create_link(internal, world), await create_link(internal, world)
        async with httpx.AsyncClient(base_url=limited.url, timeout=10) as client:
            codes = [
                (await client.get(f"/api/share/{first['token']}")).status_code for _ in range(4)
            ]
            assert codes == [200, 200, 200, 429]  # the link's burst
            assert [
                (await client.get(f"/share/{second['token']}")).status_code for _ in range(2)
            ] == [
                200,
                200,
            ]
            # The address has spent its burst of 6: every link, even an unknown one, waits.
            for path in (f"/share/{second['token']}", f"/api/share/{new_token()[0]}"):
                r = await client.get(path)
                assert r.status_code == 429
                assert int(r.headers["retry-after"]) >= 1
                assert_share_headers(r)
    finally:
        limited.stop()


# --- the link's own media route, with the CDN played by a mock transport ----------------------

PIXEL = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_the_media_route_serves_only_the_links_images_and_counts_no_view(
    world: World, internal: httpx.AsyncClient, servers: Servers, db: asyncpg.Connection
) -> None:
    asked: list[httpx.Request] = []

    async def cdn(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.path == "/maya.jpeg":
            return httpx.Response(404)
        return httpx.Response(200, content=PIXEL, headers={"Content-Type": "image/png"})

    async def public_dns(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    pool = await create_pool(servers.database_url, min_size=1, max_size=2)
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(cdn))
    proxy = MediaProxy(http=upstream, resolver=public_dns)
    buckets = TokenBuckets(Rate(10_000, 100.0))
    app = FastAPI()
    app.add_middleware(SecurityHeaders)
    app.include_router(
        public_routes(
            lambda: pool,
            Limits(per_address=buckets, per_link=buckets, unlock_per_link=buckets),
            PublicConfig(unlock_key(SERVICE_TOKEN), timedelta(hours=1), secure_cookies=False),
            lambda: proxy,
        )
    )
    link = await create_link(internal, world)
    locked = await create_link(internal, world, password="only for the client")
    revoked = await create_link(internal, world)
    await internal.delete(f"/internal/orgs/{world.org_id}/share-links/{revoked['id']}")
    thumb, avatar = (
        "https://p16-sign.tiktokcdn.com/cover.jpeg",
        "https://p16.tiktokcdn.com/maya.jpeg",
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://share.test") as client:

            async def media(token: str, url: str) -> httpx.Response:
                return await client.get(f"/share/{token}/media", params={"url": url})

            r = await media(link["token"], thumb)
            assert r.status_code == 200, r.text
            assert r.content == PIXEL
            assert r.headers["content-type"] == "image/png"
            assert r.headers["content-security-policy"] == "default-src 'none'; sandbox"
            assert r.headers["x-content-type-options"] == "nosniff"
            assert_share_headers_but_csp(r)
            assert [q.headers["host"] for q in asked] == ["p16-sign.tiktokcdn.com"]
            assert "cookie" not in asked[0].headers
            # A failure upstream answers with the proxy's own status and code.
            gone = await media(link["token"], avatar)
            assert gone.status_code == 502
            assert gone.json()["error"]["code"] == "upstream_status"

            asked.clear()
            not_shown = await media(link["token"], "https://p16.tiktokcdn.com/other.jpeg")
            assert not_shown.status_code == 404
            assert (await media(revoked["token"], thumb)).content == not_shown.content
            assert (await media(new_token()[0], thumb)).content == not_shown.content
            locked_answer = await media(locked["token"], thumb)
            assert locked_answer.status_code == 401
            assert asked == []  # none of these reached the CDN

    finally:
        await upstream.aclose()
        await pool.close()
    # Images are part of a view: neither counted nor logged on their own.
    row = await db.fetchrow("SELECT view_count FROM share.links WHERE id = $1", UUID(link["id"]))
    assert row is not None
    assert row["view_count"] == 0
    assert not await db.fetchval(
        "SELECT count(*) FROM share.access_log WHERE link_id = $1", UUID(link["id"])
    )


def assert_share_headers_but_csp(r: httpx.Response) -> None:
    for name, value in SHARE_HEADERS.items():
        assert r.headers.get(name) == value, (name, r.headers.get(name))


async def test_the_forecast_shows_only_on_links_that_opted_in_and_never_money(
    bus: Bus, db: asyncpg.Connection, internal: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    w = World()
    today = utcnow().date()
    start, end = today - timedelta(days=7), today + timedelta(days=7)
    for event in catalog_events(w, start, end):
        await bus.publish_event(w.org_id, event)
    doc = kpi_document(w, start, end, utcnow() - timedelta(minutes=1))
    forecast = DeliveryForecast(
        status="projected",
        views=2_345_678,
        views_low=1_900_000,
        views_high=2_800_000,
        engagement=150_000,
        engagement_low=120_000,
        engagement_high=180_000,
        posts=4,
        posts_low=2,
        posts_high=4,
        path=[ForecastDay(date=today, views_cum=1_500_000)],
    )
    doc = doc.model_copy(
        update={"campaign": doc.campaign.model_copy(update={"forecast": forecast})}
    )
    await bus.publish_event(w.org_id, doc)

    async def ready() -> bool:
        row = await projected(db, w.campaign_id)
        return bool(row and row["numbers_as_of"] == doc.as_of and "Leo Runs" in str(row))

    await eventually(ready)
    plain = await create_link(internal, w)
    opted = await create_link(internal, w, show_forecast=True)
    assert (plain["show_forecast"], opted["show_forecast"]) == (False, True)
    listed = await internal.get(f"/internal/orgs/{w.org_id}/campaigns/{w.campaign_id}/share-links")
    assert {item["id"]: item["show_forecast"] for item in listed.json()["items"]} == {
        plain["id"]: False,
        opted["id"]: True,
    }

    # Off by default: neither the JSON nor the page says anything of a forecast.
    r = await anonymous.get(f"/api/share/{plain['token']}")
    assert r.status_code == 200, r.text
    assert "forecast" not in r.json()
    page = await anonymous.get(f"/share/{plain['token']}")
    assert "2,345,678" not in page.text
    assert "Forecast at the end date" not in page.text

    # Opted in: the forecast and its band, and still no money anywhere.
    r = await anonymous.get(f"/api/share/{opted['token']}")
    assert r.json()["forecast"] == forecast.model_dump(mode="json")
    assert_no_leak(r.text, w, UUID(opted["id"]))
    page = await anonymous.get(f"/share/{opted['token']}")
    assert page.status_code == 200
    assert "Forecast at the end date" in page.text
    assert "2,345,678" in page.text
    assert "1,900,000–2,800,000" in page.text
    assert "Includes 2 committed posts not live yet; the low end leaves them out." in page.text
    assert_no_leak(page.text, w, UUID(opted["id"]))
