"""Pulling from ScrapeCreators end to end: ingest and aggregator as processes over real
PostgreSQL and RabbitMQ, the fake provider as a process, catalog events published on the bus.

The scheduler is global (it considers every tracked post in the database), so each test
starts by taking every earlier post out of tracking, and moves ingest's clock through the
test-only route `PUT /internal/test/clock` (PULSE_INGEST_TEST_ROUTES; refused in production),
then asks for a tick with `POST /internal/test/scheduler/tick` instead of waiting for the
loop (whose interval here is an hour)."""

from __future__ import annotations

import asyncio
import json
import random
import string
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from pulse_contracts.catalog import (
    BookingUpserted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
)
from pulse_contracts.internal.ingest_operations import Ticked
from pulse_contracts.values import Platform
from pulse_ingest.priority import QueueDepth
from pulse_ingest.refresh import SCHEDULER_LOCK_KEY
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration

LOGS = ROOT / "test-artifacts" / "logs"
PROVIDER_SOURCE = 3  # ingest.samples.source code of "provider"
H = timedelta(hours=1)
D = timedelta(days=1)


# --- processes -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingest(pulling_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("ingest", pulling_env, LOGS)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def aggregator(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("aggregator", service_env, LOGS)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
async def bus(servers: Servers, ingest: ServiceProcess) -> AsyncIterator[Bus]:
    async with Bus(servers.amqp_url) as connected:
        yield connected


@pytest.fixture
async def control(ingest: ServiceProcess) -> AsyncIterator[Control]:
    async with httpx.AsyncClient(
        base_url=ingest.url, headers={"X-Pulse-Service-Token": "test-service-token"}, timeout=20
    ) as client:
        c = Control(client)
        await c.set_clock(0)
        yield c
        await c.set_clock(0)


@pytest.fixture
async def fake(fake_provider: Any, admin_db: asyncpg.Connection, ingest: ServiceProcess) -> Any:
    """A fresh fake, and no tracked post left from earlier tests for the scheduler to see."""
    await admin_db.execute(
        "UPDATE ingest.tracked_posts SET removed_at = now() WHERE removed_at IS NULL"
    )
    fake_provider.reset()
    return fake_provider


@dataclass
class Control:
    http: httpx.AsyncClient
    offset: timedelta = timedelta(0)

    async def set_clock(self, offset: timedelta | float) -> datetime:
        seconds = offset.total_seconds() if isinstance(offset, timedelta) else float(offset)
        response = await self.http.put("/internal/test/clock", json={"offset_s": seconds})
        response.raise_for_status()
        self.offset = timedelta(seconds=seconds)
        return datetime.fromisoformat(response.json()["now"])

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    async def tick(self) -> dict[str, Any]:
        response = await self.http.post("/internal/test/scheduler/tick")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        # The tick's answer is exactly its contract (nothing dropped, nothing reformatted).
        assert Ticked.model_validate(result).model_dump(mode="json") == result
        return result

    async def pull(self, org_id: UUID, post_id: UUID) -> None:
        response = await self.http.post(f"/internal/orgs/{org_id}/posts/{post_id}/pull")
        assert response.status_code == 202, response.text

    async def status(self, org_id: UUID, campaign_id: UUID) -> dict[str, Any]:
        response = await self.http.get(
            f"/internal/orgs/{org_id}/campaigns/{campaign_id}/pull-status"
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


class FailedProbe:
    """Every post.pull_failed published on pulse.events."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            self.events.append(json.loads(message.body))

    def of(self, post_id: UUID) -> list[dict[str, Any]]:
        return [e for e in self.events if e["data"]["post_id"] == str(post_id)]


@pytest.fixture
async def failed(servers: Servers, ingest: ServiceProcess) -> AsyncIterator[FailedProbe]:
    probe = FailedProbe()
    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange("pulse.events")
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="post.pull_failed")
        await queue.consume(probe.on_message)
        yield probe
    finally:
        await connection.close()


# --- a tenant --------------------------------------------------------------------------------


def post_url(platform: Platform) -> str:
    digits = "".join(random.choices(string.digits, k=19))
    code = "".join(random.choices(string.ascii_letters + string.digits, k=11))
    return {
        "tiktok": f"https://www.tiktok.com/@pulse.test/video/7{digits[1:]}",
        "instagram": f"https://www.instagram.com/reel/{code}/",
        "youtube": f"https://www.youtube.com/watch?v={code}",
        "facebook": f"https://www.facebook.com/reel/1{digits[:15]}",
        "other": f"https://example.com/posts/{code}",
    }[platform]


@dataclass
class Tenant:
    org_id: UUID
    campaign_id: UUID
    booking_id: UUID
    posts: list[dict[str, Any]] = field(default_factory=list)

    def urls(self, posts: list[dict[str, Any]] | None = None) -> set[str]:
        return {p["url"] for p in (posts if posts is not None else self.posts)}


async def create_tenant(
    bus: Bus,
    db: asyncpg.Connection,
    *,
    is_test: bool = False,
    end_date: date | None = None,
) -> Tenant:
    stamp = utcnow() - D
    t = Tenant(uuid4(), uuid4(), uuid4())
    today = date.today()
    await bus.publish_event(
        t.org_id,
        OrganizationUpserted(
            id=t.org_id, name=f"Org {t.org_id.hex[:6]}", is_test=is_test, updated_at=stamp
        ),
    )
    await bus.publish_event(
        t.org_id,
        CampaignUpserted(
            id=t.campaign_id,
            client_id=uuid4(),
            name="Autumn drop",
            status="live",
            start_date=today - timedelta(days=40),
            end_date=end_date or today + timedelta(days=20),
            updated_at=stamp,
        ),
    )
    await bus.publish_event(
        t.org_id,
        BookingUpserted(
            id=t.booking_id,
            campaign_id=t.campaign_id,
            influencer_id=uuid4(),
            fee_cents=100_000,
            committed_views=1_000_000,
            updated_at=stamp,
        ),
    )

    async def known() -> bool:
        org = await db.fetchval("SELECT 1 FROM ingest.organizations WHERE id = $1", t.org_id)
        campaign = await db.fetchval("SELECT 1 FROM ingest.campaigns WHERE id = $1", t.campaign_id)
        return bool(org and campaign)

    await until(known, "ingest never learned the organization and campaign")
    return t


async def register(
    bus: Bus, t: Tenant, platforms: list[Platform], *, url: str | None = None
) -> list[dict[str, Any]]:
    posts = [
        {"id": uuid4(), "platform": p, "url": url or post_url(p), "org_id": t.org_id}
        for p in platforms
    ]
    for p in posts:
        await bus.publish_event(
            t.org_id,
            PostRegistered(
                id=p["id"],
                booking_id=t.booking_id,
                campaign_id=t.campaign_id,
                platform=p["platform"],
                url=p["url"],
                registered_at=utcnow(),
            ),
        )
    t.posts.extend(posts)
    return posts


# --- helpers -------------------------------------------------------------------------------


async def until(check: Callable[[], Awaitable[bool]], message: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.05)


async def post_rows(db: asyncpg.Connection, posts: list[dict[str, Any]]) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT * FROM ingest.tracked_posts WHERE id = ANY($1::uuid[])",
            [p["id"] for p in posts],
        )
    )


async def all_pulled(db: asyncpg.Connection, posts: list[dict[str, Any]]) -> None:
    """Wait until every post had a successful pull and has nothing pending."""

    async def done() -> bool:
        rows = await post_rows(db, posts)
        return len(rows) == len(posts) and all(
            r["last_success_at"] is not None and r["queued_at"] is None for r in rows
        )

    await until(done, "posts were never pulled")


async def attempted_since(
    db: asyncpg.Connection, posts: list[dict[str, Any]], since: datetime
) -> None:
    async def done() -> bool:
        rows = await post_rows(db, posts)
        return all(
            r["last_attempt_at"] is not None
            and r["last_attempt_at"] >= since
            and r["queued_at"] is None
            for r in rows
        )

    await until(done, "posts were not attempted")


async def runs(db: asyncpg.Connection, post_id: UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch("SELECT * FROM ingest.pull_runs WHERE post_id = $1 ORDER BY id", post_id)
    )


async def set_pull_state(
    db: asyncpg.Connection,
    posts: list[dict[str, Any]],
    *,
    posted_at: datetime,
    last_success_at: datetime,
) -> None:
    await db.execute(
        "UPDATE ingest.tracked_posts SET posted_at = $2, last_success_at = $3, "
        "last_attempt_at = $3, consecutive_failures = 0, queued_at = NULL "
        "WHERE id = ANY($1::uuid[])",
        [p["id"] for p in posts],
        posted_at,
        last_success_at,
    )


def my_batches(tick: dict[str, Any], t: Tenant) -> dict[str, list[int]]:
    sizes: dict[str, list[int]] = defaultdict(list)
    for batch in tick["batches"]:
        if batch["org_id"] == str(t.org_id):
            sizes[batch["platform"]].append(len(batch["post_ids"]))
    return {platform: sorted(s, reverse=True) for platform, s in sizes.items()}


# --- 1. start tracking ------------------------------------------------------------------------


async def test_a_registered_post_gets_its_first_sample_within_seconds(
    bus: Bus,
    fake: Any,
    admin_db: asyncpg.Connection,
    aggregator: ServiceProcess,
    control: Control,
) -> None:
    t = await create_tenant(bus, admin_db)
    started = time.monotonic()
    (post,) = await register(bus, t, ["tiktok"])

    numbers: dict[str, Any] = {}

    async def visible() -> bool:
        with aggregator.internal() as client:
            response = client.get(f"/internal/orgs/{t.org_id}/campaigns/{t.campaign_id}/numbers")
        if response.status_code != 200:
            return False
        numbers.update(response.json())
        latest = [p["latest"] for p in numbers["posts"] if p["post_id"] == str(post["id"])]
        return bool(latest and latest[0] and latest[0]["views"])

    await until(visible, "the first sample never reached the aggregator's numbers", timeout=10)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"first sample took {elapsed:.1f} s"

    (run,) = await runs(admin_db, post["id"])
    assert (run["priority"], run["reason"], run["status"]) == ("high", "start_tracking", "ok")
    assert (run["http_status"], run["attempts"], run["credits"]) == (200, 1, 1)
    assert run["error_code"] is None
    assert run["latency_ms"] >= 0
    samples = await admin_db.fetch(
        "SELECT s.* FROM ingest.samples s JOIN ingest.tracked_posts p ON p.key = s.post_key "
        "WHERE p.id = $1",
        post["id"],
    )
    assert [s["source"] for s in samples] == [PROVIDER_SOURCE]
    latest = next(p["latest"] for p in numbers["posts"] if p["post_id"] == str(post["id"]))
    assert latest["views"] == samples[0]["views"]
    # The provider's posted_at became the post's fact.
    (row,) = await post_rows(admin_db, [post])
    assert row["posted_at"] is not None
    assert [c["url"] for c in fake.post_calls(t.urls())] == [post["url"]]

    status = await control.status(t.org_id, t.campaign_id)
    (item,) = status["items"]
    assert item["status"] == "ok"
    assert item["consecutive_failures"] == 0
    assert item["last_success_at"] is not None


# --- 2. the scheduler -------------------------------------------------------------------------


async def test_the_scheduler_pulls_exactly_the_due_posts_in_platform_batches(
    bus: Bus, fake: Any, admin_db: asyncpg.Connection, control: Control
) -> None:
    t = await create_tenant(bus, admin_db)
    due = {
        "tiktok": await register(bus, t, ["tiktok"] * 9),
        "instagram": await register(bus, t, ["instagram"] * 6),
        "youtube": await register(bus, t, ["youtube"] * 2),
        "facebook": await register(bus, t, ["facebook"]),
    }
    fresh = await register(bus, t, ["tiktok", "tiktok", "facebook"])
    other = await register(bus, t, ["other"])
    ended = await create_tenant(bus, admin_db, end_date=date.today() - timedelta(days=30))
    ended_posts = await register(bus, ended, ["tiktok"])
    test_org = await create_tenant(bus, admin_db, is_test=True)
    test_posts = await register(bus, test_org, ["tiktok"])
    due_posts = [p for posts in due.values() for p in posts]
    await all_pulled(admin_db, due_posts + fresh + ended_posts)

    # Never pulled, not even at registration: platform other, a test organization.
    for post in other + test_posts:
        assert await runs(admin_db, post["id"]) == []
    assert not fake.post_calls(test_org.urls())

    # Two days later by ingest's clock: every post is 3 days old (3 h interval).
    now = await control.set_clock(2 * D)
    await set_pull_state(
        admin_db, due_posts + ended_posts, posted_at=now - 3 * D, last_success_at=now - 3 * H
    )
    await set_pull_state(admin_db, fresh, posted_at=now - 3 * D, last_success_at=now - 2 * H)
    fake.reset()

    # Another replica holding the scheduler's lock: this one does nothing.
    await admin_db.execute("SELECT pg_advisory_lock($1)", SCHEDULER_LOCK_KEY)
    try:
        assert (await control.tick())["acted"] is False
    finally:
        await admin_db.execute("SELECT pg_advisory_unlock($1)", SCHEDULER_LOCK_KEY)

    tick = await control.tick()
    assert tick["acted"] is True
    # TikTok's batch size is configured to 4 here; the others keep their defaults.
    assert my_batches(tick, t) == {
        "tiktok": [4, 4, 1],
        "instagram": [5, 1],
        "youtube": [2],
        "facebook": [1],
    }
    assert my_batches(tick, ended) == {}
    assert my_batches(tick, test_org) == {}
    await attempted_since(admin_db, due_posts, now)

    everyone = t.urls() | ended.urls() | test_org.urls()
    called = Counter(c["url"] for c in fake.post_calls(everyone))
    assert called == Counter(t.urls(due_posts)), "exactly the due posts, each once"

    # The pull runs record the batches as they were sent.
    rows = await admin_db.fetch(
        "SELECT command_id, platform, count(*) AS n, bool_and(status = 'ok') AS ok "
        "FROM ingest.pull_runs WHERE org_id = $1 AND reason = 'scheduled' "
        "GROUP BY command_id, platform",
        t.org_id,
    )
    sizes: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        assert r["ok"]
        sizes[r["platform"]].append(r["n"])
    assert {p: sorted(s, reverse=True) for p, s in sizes.items()} == my_batches(tick, t)

    # Just pulled: nothing is due any more.
    again = await control.tick()
    assert my_batches(again, t) == {}

    # An hour later only the fresh posts are due (their last pull is then 3 h old); those
    # pulled by the tick above are not.
    later = await control.set_clock(2 * D + H)
    assert later - now >= H
    third = await control.tick()
    assert my_batches(third, t) == {"tiktok": [2], "facebook": [1]}
    await attempted_since(admin_db, fresh, later)


# --- 3. provider trouble -----------------------------------------------------------------------


async def test_429_and_500_are_retried_then_recorded(
    bus: Bus, fake: Any, admin_db: asyncpg.Connection, control: Control, failed: FailedProbe
) -> None:
    t = await create_tenant(bus, admin_db)
    (post,) = await register(bus, t, ["tiktok"])
    await all_pulled(admin_db, [post])

    # Two 429s, then an answer: one run, three attempts, ok.
    fake.behave(platform="tiktok", mode="429", times=2)
    await control.pull(t.org_id, post["id"])
    await until(lambda: _runs_count(admin_db, post["id"], 2), "429 pull never recorded")
    run = (await runs(admin_db, post["id"]))[-1]
    assert (run["status"], run["attempts"], run["http_status"]) == ("ok", 3, 200)
    assert run["reason"] == "manual"

    # 500 on every attempt: retried up to the limit (3 here), then a failed run.
    fake.behave(platform="tiktok", mode="500", times=100)
    for expected in (1, 2):
        await control.pull(t.org_id, post["id"])
        await until(
            lambda n=expected: _runs_count(admin_db, post["id"], 2 + n), "500 pull never recorded"
        )
        run = (await runs(admin_db, post["id"]))[-1]
        assert (run["status"], run["attempts"], run["http_status"]) == ("failed", 3, 500)
        assert run["error_code"] == "server_error"
        assert "after 3 attempts" in run["error"]
        assert run["credits"] == 0  # the provider does not charge 5xx

        async def event_arrived(n: int = expected) -> bool:
            return len(failed.of(post["id"])) == n

        await until(event_arrived, "no post.pull_failed")
        event = failed.of(post["id"])[-1]
        assert event["data"]["consecutive_failures"] == expected
        assert event["data"]["error_code"] == "server_error"
        assert event["data"]["provider"] == "scrapecreators"
        assert event["data"]["campaign_id"] == str(t.campaign_id)

    status = await control.status(t.org_id, t.campaign_id)
    (item,) = status["items"]
    assert item["status"] == "failing"
    assert item["consecutive_failures"] == 2
    assert item["last_error_code"] == "server_error"
    assert item["last_attempt_at"] > item["last_success_at"]

    # The provider recovers: one success resets the streak.
    fake.behave(platform="tiktok", mode="ok")
    await control.pull(t.org_id, post["id"])
    await until(lambda: _runs_count(admin_db, post["id"], 5), "recovery never recorded")
    (item,) = (await control.status(t.org_id, t.campaign_id))["items"]
    assert (item["status"], item["consecutive_failures"], item["last_error"]) == ("ok", 0, None)


async def _runs_count(db: asyncpg.Connection, post_id: UUID, n: int) -> bool:
    return len(await runs(db, post_id)) >= n


async def test_out_of_credits_pauses_the_organizations_pulls(
    bus: Bus, fake: Any, admin_db: asyncpg.Connection, control: Control, failed: FailedProbe
) -> None:
    t = await create_tenant(bus, admin_db)
    tiktok, youtube = await register(bus, t, ["tiktok", "youtube"])
    await all_pulled(admin_db, [tiktok, youtube])
    fake.set_credits(0)

    await control.pull(t.org_id, tiktok["id"])
    await until(lambda: _runs_count(admin_db, tiktok["id"], 2), "402 pull never recorded")
    run = (await runs(admin_db, tiktok["id"]))[-1]
    assert (run["status"], run["http_status"], run["error_code"]) == (
        "failed",
        402,
        "out_of_credits",
    )
    assert run["attempts"] == 1, "402 is not retried"
    status = await control.status(t.org_id, t.campaign_id)
    assert status["paused"] is True
    assert {i["status"] for i in status["items"]} == {"paused"}
    await until(lambda: _has_events(failed, tiktok["id"]), "no post.pull_failed for 402")
    assert failed.of(tiktok["id"])[-1]["data"]["error_code"] == "out_of_credits"

    # Paused: both posts due, yet no batch and no call; a manual pull is skipped, not sent.
    now = await control.set_clock(H)
    await set_pull_state(
        admin_db, [tiktok, youtube], posted_at=now - 2 * D, last_success_at=now - 4 * H
    )
    calls_before = len(fake.post_calls(t.urls()))
    tick = await control.tick()
    assert my_batches(tick, t) == {}
    assert tick["credits"] == 0  # the balance check found none
    await control.pull(t.org_id, youtube["id"])
    await until(lambda: _runs_count(admin_db, youtube["id"], 2), "paused pull never recorded")
    run = (await runs(admin_db, youtube["id"]))[-1]
    assert (run["status"], run["error_code"], run["attempts"]) == ("skipped", "paused", 0)
    assert len(fake.post_calls(t.urls())) == calls_before, "no provider call while paused"

    # Credits bought: the next balance check (5 min later by the clock) resumes the pulls.
    fake.set_credits(1000)
    still = await control.tick()
    assert my_batches(still, t) == {}, "balance is checked at most every 5 minutes"
    await control.set_clock(H + timedelta(minutes=6))
    tick = await control.tick()
    assert str(t.org_id) in tick["resumed"]
    assert sum(sum(v) for v in my_batches(tick, t).values()) == 2
    await attempted_since(admin_db, [tiktok, youtube], now)
    status = await control.status(t.org_id, t.campaign_id)
    assert status["paused"] is False
    assert {i["status"] for i in status["items"]} == {"ok"}

    # An operator can resume by hand too.
    await admin_db.execute(
        "INSERT INTO ingest.provider_state (org_id, paused_at, paused_reason, updated_at) "
        "VALUES ($1, now(), 'out_of_credits', now()) ON CONFLICT (org_id) DO UPDATE "
        "SET paused_at = now()",
        t.org_id,
    )
    response = await control.http.post(f"/internal/orgs/{t.org_id}/provider/resume")
    assert response.json() == {"resumed": True}
    state = (await control.http.get(f"/internal/orgs/{t.org_id}/provider")).json()
    assert state["paused"] is False


async def _has_events(probe: FailedProbe, post_id: UUID) -> bool:
    return bool(probe.of(post_id))


async def test_a_malformed_body_is_a_failed_pull_with_its_reason(
    bus: Bus, fake: Any, admin_db: asyncpg.Connection, control: Control, failed: FailedProbe
) -> None:
    t = await create_tenant(bus, admin_db)
    (post,) = await register(bus, t, ["instagram"])
    await all_pulled(admin_db, [post])

    fake.behave(platform="instagram", mode="malformed", times=1)
    await control.pull(t.org_id, post["id"])
    await until(lambda: _runs_count(admin_db, post["id"], 2), "malformed pull never recorded")
    run = (await runs(admin_db, post["id"]))[-1]
    assert (run["status"], run["http_status"], run["attempts"]) == ("failed", 200, 1)
    assert run["error_code"] in ("malformed_body", "unrecognised_body")
    assert run["error"]
    await until(lambda: _has_events(failed, post["id"]), "no post.pull_failed")
    event = failed.of(post["id"])[-1]["data"]
    assert event["error_code"] == run["error_code"]
    assert event["message"] == run["error"]
    assert event["consecutive_failures"] == 1

    # success:false with HTTP 200 is a failure too.
    fake.behave(platform="instagram", mode="success_false", times=1)
    await control.pull(t.org_id, post["id"])
    await until(lambda: _runs_count(admin_db, post["id"], 3), "success:false never recorded")
    run = (await runs(admin_db, post["id"]))[-1]
    assert (run["status"], run["error_code"]) == ("failed", "provider_error")

    # Nothing crashed, nothing was lost: the next pull works.
    await control.pull(t.org_id, post["id"])
    await until(lambda: _runs_count(admin_db, post["id"], 4), "next pull never recorded")
    assert (await runs(admin_db, post["id"]))[-1]["status"] == "ok"
    samples = await admin_db.fetchval(
        "SELECT count(*) FROM ingest.samples s JOIN ingest.tracked_posts p ON p.key = s.post_key "
        "WHERE p.id = $1",
        post["id"],
    )
    assert samples == 2


async def test_a_deleted_post_is_rechecked_daily_then_marked_deleted(
    bus: Bus, fake: Any, admin_db: asyncpg.Connection, control: Control, failed: FailedProbe
) -> None:
    t = await create_tenant(bus, admin_db)
    url = post_url("tiktok")
    fake.delete(url)
    (post,) = await register(bus, t, ["tiktok"], url=url)

    async def attempts(n: int) -> None:
        await until(lambda: _runs_count(admin_db, post["id"], n), f"attempt {n} never recorded")

    await attempts(1)
    (row,) = await post_rows(admin_db, [post])
    seen = row["deleted_seen_at"]
    assert seen is not None
    assert row["deleted_at"] is None
    assert (await runs(admin_db, post["id"]))[0]["error_code"] == "not_found"
    (item,) = (await control.status(t.org_id, t.campaign_id))["items"]
    assert item["status"] == "failing"

    # Half a day later: not yet (once a day, whatever the post's age).
    await control.set_clock(12 * H)
    assert my_batches(await control.tick(), t) == {}

    day = 24 * H + 5 * 60 * timedelta(seconds=1)
    for n in range(1, 8):
        await control.set_clock(n * day)
        tick = await control.tick()
        assert my_batches(tick, t) == {"tiktok": [1]}, f"day {n}"
        await attempts(n + 1)
        (row,) = await post_rows(admin_db, [post])
        assert row["deleted_seen_at"] == seen
        if n < 7:
            assert row["deleted_at"] is None, f"day {n}"
            await until(lambda: _queued_cleared(admin_db, post["id"]), "still queued")
    await until(lambda: _deleted(admin_db, post["id"]), "never marked deleted")

    # Deleted: never pulled again.
    await control.set_clock(9 * day)
    assert my_batches(await control.tick(), t) == {}
    assert len(fake.post_calls({url})) == 8
    (item,) = (await control.status(t.org_id, t.campaign_id))["items"]
    assert item["status"] == "deleted"
    assert item["consecutive_failures"] == 8
    await until(lambda: _events(failed, post["id"], 8), "post.pull_failed missing")
    assert "marked deleted" in failed.of(post["id"])[-1]["data"]["message"]


async def _queued_cleared(db: asyncpg.Connection, post_id: UUID) -> bool:
    return bool(
        await db.fetchval(
            "SELECT queued_at IS NULL FROM ingest.tracked_posts WHERE id = $1", post_id
        )
    )


async def _deleted(db: asyncpg.Connection, post_id: UUID) -> bool:
    return bool(
        await db.fetchval(
            "SELECT deleted_at IS NOT NULL FROM ingest.tracked_posts WHERE id = $1", post_id
        )
    )


async def _events(probe: FailedProbe, post_id: UUID, n: int) -> bool:
    return len(probe.of(post_id)) >= n


# --- 4. high before low -----------------------------------------------------------------------


async def test_high_priority_is_served_before_waiting_low_batches(
    bus: Bus, fake: Any, admin_db: asyncpg.Connection, control: Control
) -> None:
    t = await create_tenant(bus, admin_db)
    backlog = await register(bus, t, ["youtube"] * 15)
    await all_pulled(admin_db, backlog)
    now = await control.set_clock(2 * D)
    await set_pull_state(admin_db, backlog, posted_at=now - 3 * D, last_success_at=now - 4 * H)
    fake.reset()
    # Every YouTube answer takes 150 ms: the low batch of 15 takes over 2 s one by one.
    fake.behave(platform="youtube", mode="slow", delay_ms=150, times=100)
    tick = await control.tick()
    assert my_batches(tick, t) == {"youtube": [15]}
    await until(lambda: _calls_for(fake, t.urls(backlog), 2), "low batch never started")

    (urgent,) = await register(bus, t, ["youtube"])
    await all_pulled(admin_db, [urgent])
    order = [c["url"] for c in fake.post_calls(t.urls())]
    position = order.index(urgent["url"])
    assert position <= len(backlog) - 5, "the start-tracking fetch waited for the low batch"
    await attempted_since(admin_db, backlog, now)
    fake.behave(platform="youtube", mode="ok")


async def test_the_high_queue_probe_reads_the_current_ready_count(servers: Servers) -> None:
    name = f"ingest.test.depth.{uuid4().hex[:8]}"
    connection = await aio_pika.connect_robust(servers.amqp_url)
    depth = QueueDepth(servers.amqp_url, name)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(name, auto_delete=True)
        assert await depth() == 0
        for expected in (3, 5):
            while await depth() < expected:
                await channel.default_exchange.publish(aio_pika.Message(b"x"), routing_key=name)
            assert await depth() == expected
        await queue.purge()
        assert await depth() == 0
        missing = QueueDepth(servers.amqp_url, f"{name}.missing")
        try:
            assert await missing() == 0  # a failing probe never blocks low-priority work
        finally:
            await missing.close()
    finally:
        await depth.close()
        await connection.close()


async def _calls_for(fake: Any, urls: set[str], n: int) -> bool:
    return len(fake.post_calls(urls)) >= n


# --- 5. reads and settings --------------------------------------------------------------------


async def test_pull_runs_read_and_unknown_posts(
    bus: Bus, fake: Any, admin_db: asyncpg.Connection, control: Control
) -> None:
    t = await create_tenant(bus, admin_db)
    (post,) = await register(bus, t, ["facebook"])
    await all_pulled(admin_db, [post])
    response = await control.http.get(f"/internal/orgs/{t.org_id}/posts/{post['id']}/pull-runs")
    (item,) = response.json()["items"]
    assert (item["status"], item["priority"], item["reason"]) == ("ok", "high", "start_tracking")
    # Another organization's post answers 404 like a missing one.
    missing = await control.http.post(f"/internal/orgs/{uuid4()}/posts/{post['id']}/pull")
    assert missing.status_code == 404
    anonymous = await control.http.get(
        f"/internal/orgs/{t.org_id}/campaigns/{t.campaign_id}/pull-status",
        headers={"X-Pulse-Service-Token": "wrong"},
    )
    assert anonymous.status_code == 401


# --- Pulse's own pulls are runs too ------------------------------------------------------------


async def test_pulses_own_pulls_are_listed_as_scheduler_runs_with_each_posts_outcome(
    bus: Bus, fake: Any, admin_db: asyncpg.Connection, control: Control
) -> None:
    t = await create_tenant(bus, admin_db)
    gone = post_url("instagram")
    fake.delete(gone)
    since = utcnow() - timedelta(seconds=5)
    good, deleted = await register(bus, t, ["tiktok"]) + await register(
        bus, t, ["instagram"], url=gone
    )
    await all_pulled(admin_db, [good])
    await attempted_since(admin_db, [deleted], since)

    async def both_listed() -> bool:
        response = await control.http.get(f"/internal/orgs/{t.org_id}/runs?source=scheduler")
        return len(response.json()["items"]) == 2

    await until(both_listed, "the two start-tracking pulls never became runs")
    listed = (await control.http.get(f"/internal/orgs/{t.org_id}/runs")).json()["items"]
    by_status = {r["status"]: r for r in listed}
    assert set(by_status) == {"success", "failed"}
    ok, failed_run = by_status["success"], by_status["failed"]
    assert (ok["source"], ok["name"], ok["posts_ok"], ok["accepted"]) == (
        "scheduler",
        "start_tracking",
        1,
        1,
    )
    assert (failed_run["posts_failed"], failed_run["provider_errors"]) == (1, 1)
    assert failed_run["ended_at"] is not None
    # Filters, and the detail: the failing post with the provider's code and status.
    only_failed = await control.http.get(f"/internal/orgs/{t.org_id}/runs?status=failed")
    assert [r["run_id"] for r in only_failed.json()["items"]] == [failed_run["run_id"]]
    detail = (
        await control.http.get(f"/internal/orgs/{t.org_id}/runs/{failed_run['run_id']}")
    ).json()
    (item,) = detail["items"]
    assert (item["post_id"], item["status"], item["code"], item["http_status"]) == (
        str(deleted["id"]),
        "failed",
        "not_found",
        404,
    )
    # Another organization sees none of it.
    other = await control.http.get(f"/internal/orgs/{uuid4()}/runs/{failed_run['run_id']}")
    assert other.status_code == 404
