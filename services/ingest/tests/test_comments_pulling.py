"""Comments after pulls, end to end: ingest as a process over real PostgreSQL and RabbitMQ, the
fake provider as a process serving comment sets the test chooses.

What a user would notice: a tracked post's comments are read (at most the per-pull bound),
scored once, counted in post.comments_scored on the bus without their text, readable by staff
through ingest's internal read; a failing comments endpoint leaves the metrics pull alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from fake_scrapecreators.server import NEGATIVE_TEXTS, NEUTRAL_TEXTS, POSITIVE_TEXTS
from pulse_ingest import repository
from services.ingest.tests.test_pulling import (
    LOGS,
    Control,
    create_tenant,
    post_url,
    register,
    until,
)
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration

PER_PULL = 30  # below 40 so the bound shows; TikTok pages hold 20, so it takes two pages
H = 3600
ALL_TEXTS = POSITIVE_TEXTS + NEUTRAL_TEXTS + NEGATIVE_TEXTS


@pytest.fixture(scope="module")
def ingest(pulling_env: dict[str, str]) -> Iterator[ServiceProcess]:
    env = {**pulling_env, "PULSE_INGEST_COMMENTS_PER_PULL": str(PER_PULL)}
    proc = ServiceProcess("ingest", env, LOGS)
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
    await admin_db.execute(
        "UPDATE ingest.tracked_posts SET removed_at = now() WHERE removed_at IS NULL"
    )
    fake_provider.reset()
    return fake_provider


class Probe:
    """post.comments_scored and post.pull_failed as published on pulse.events (raw bodies)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            self.bodies.append(message.body)

    def of(self, event_type: str, post_id: UUID) -> list[dict[str, Any]]:
        events = [json.loads(b) for b in self.bodies]
        return [
            e for e in events if e["type"] == event_type and e["data"]["post_id"] == str(post_id)
        ]


@pytest.fixture
async def probe(servers: Servers, ingest: ServiceProcess) -> AsyncIterator[Probe]:
    p = Probe()
    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange("pulse.events")
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in ("post.comments_scored", "post.pull_failed"):
            await queue.bind(exchange, routing_key=key)
        await queue.consume(p.on_message)
        yield p
    finally:
        await connection.close()


def choose_comments(fake: Any, url: str, count: int, mood: str) -> None:
    fake.control.post(
        "/_control/comments", json={"url": url, "count": count, "mood": mood, "spacing_s": 1}
    ).raise_for_status()


def comment_calls(fake: Any, url: str) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = fake.control.get("/_control/comment-calls").json()
    return [c for c in calls if c["url"] == url]


async def comment_pulls(db: asyncpg.Connection, post_id: UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch("SELECT * FROM ingest.comment_pulls WHERE post_id = $1 ORDER BY id", post_id)
    )


async def wait_comment_pulls(db: asyncpg.Connection, post_id: UUID, n: int) -> list[Any]:
    async def done() -> bool:
        return len(await comment_pulls(db, post_id)) >= n

    await until(done, f"comment pull {n} never recorded")
    return await comment_pulls(db, post_id)


async def stored(db: asyncpg.Connection, post_id: UUID) -> list[asyncpg.Record]:
    return list(await db.fetch("SELECT * FROM ingest.comments WHERE post_id = $1", post_id))


async def metrics_runs(db: asyncpg.Connection, post_id: UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch("SELECT * FROM ingest.pull_runs WHERE post_id = $1 ORDER BY id", post_id)
    )


async def wait_scored(probe: Probe, post_id: UUID, n: int) -> dict[str, Any]:
    async def arrived() -> bool:
        return len(probe.of("post.comments_scored", post_id)) >= n

    await until(arrived, f"post.comments_scored #{n} never arrived")
    data: dict[str, Any] = probe.of("post.comments_scored", post_id)[-1]["data"]
    return data


async def test_comments_are_fetched_bounded_scored_once_and_counted_without_text(
    bus: Bus,
    fake: Any,
    admin_db: asyncpg.Connection,
    control: Control,
    probe: Probe,
) -> None:
    t = await create_tenant(bus, admin_db)
    url = post_url("tiktok")
    choose_comments(fake, url, 40, "negative")
    (post,) = await register(bus, t, ["tiktok"], url=url)

    # Start tracking: the metrics pull, then one comments fetch of two pages, cut at 30.
    (pull,) = await wait_comment_pulls(admin_db, post["id"], 1)
    assert (pull["status"], pull["error_code"]) == ("ok", None)
    assert (pull["pages"], pull["received"], pull["new_comments"]) == (2, PER_PULL, PER_PULL)
    assert (pull["credits"], pull["attempts"]) == (2, 2)
    assert pull["org_id"] == t.org_id
    assert len(comment_calls(fake, url)) == 2
    (run,) = await metrics_runs(admin_db, post["id"])
    assert run["status"] == "ok"

    rows = await stored(admin_db, post["id"])
    assert len(rows) == PER_PULL
    assert {r["text"] for r in rows} <= set(ALL_TEXTS)
    for r in rows:
        assert r["label"] in ("positive", "neutral", "negative")
        assert -1 <= r["sentiment"] <= 1
        assert r["author_handle"]
        assert r["commented_at"] is not None
    by_label = {
        label: sum(1 for r in rows if r["label"] == label)
        for label in ("positive", "neutral", "negative")
    }
    assert by_label["negative"] / PER_PULL >= 0.5, by_label
    for r in rows:  # a clear text gets its clear label
        if r["text"] in NEGATIVE_TEXTS:
            assert r["label"] == "negative"
        if r["text"] in POSITIVE_TEXTS:
            assert r["label"] == "positive"

    # post.comments_scored: the counts, the post's booking and campaign, and no comment text.
    event = await wait_scored(probe, post["id"], 1)
    assert event == {
        "post_id": str(post["id"]),
        "booking_id": str(t.booking_id),
        "campaign_id": str(t.campaign_id),
        "platform": "tiktok",
        "analysed": PER_PULL,
        "positive": by_label["positive"],
        "neutral": by_label["neutral"],
        "negative": by_label["negative"],
        "scored_at": event["scored_at"],
    }
    for body in probe.bodies:
        text = body.decode()
        for comment in ALL_TEXTS:
            assert json.dumps(comment)[1:-1] not in text
        assert "author_handle" not in text

    # A manual refresh right away: metrics again, comments not yet (their cadence is 6 h).
    await control.pull(t.org_id, post["id"])

    async def second_metrics_run() -> bool:
        return len(await metrics_runs(admin_db, post["id"])) >= 2

    await until(second_metrics_run, "manual pull never recorded")
    await asyncio.sleep(0.5)
    assert len(await comment_pulls(admin_db, post["id"])) == 1
    assert len(comment_calls(fake, url)) == 2

    # Seven hours later by ingest's clock: the same 30 newest comments again; nothing new,
    # nothing counted twice, no new event.
    await control.set_clock(7 * H)
    await control.pull(t.org_id, post["id"])
    pulls = await wait_comment_pulls(admin_db, post["id"], 2)
    assert (pulls[-1]["status"], pulls[-1]["received"], pulls[-1]["new_comments"]) == (
        "ok",
        PER_PULL,
        0,
    )
    assert len(await stored(admin_db, post["id"])) == PER_PULL
    await asyncio.sleep(0.5)
    assert len(probe.of("post.comments_scored", post["id"])) == 1

    # Ten more comments arrive: the next fetch stores only those and counts all 40 distinct.
    choose_comments(fake, url, 50, "negative")
    await control.set_clock(14 * H)
    await control.pull(t.org_id, post["id"])
    pulls = await wait_comment_pulls(admin_db, post["id"], 3)
    assert (pulls[-1]["received"], pulls[-1]["new_comments"]) == (PER_PULL, 10)
    rows = await stored(admin_db, post["id"])
    assert len(rows) == 40
    event = await wait_scored(probe, post["id"], 2)
    assert event["analysed"] == 40
    assert event["positive"] + event["neutral"] + event["negative"] == 40
    assert event["negative"] == sum(1 for r in rows if r["label"] == "negative")

    # Staff can read them: counts, the last fetch, the latest comments with their scores.
    response = await control.http.get(
        f"/internal/orgs/{t.org_id}/posts/{post['id']}/comments", params={"limit": 5}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["analysed"], body["negative"]) == (40, event["negative"])
    assert body["last_pull"]["new_comments"] == 10
    assert len(body["items"]) == 5
    newest = sorted(rows, key=lambda r: r["commented_at"], reverse=True)[:5]
    assert [i["platform_comment_id"] for i in body["items"]] == [
        r["platform_comment_id"] for r in newest
    ]
    assert {"text", "label", "sentiment", "author_handle"} <= set(body["items"][0])
    other_org = await control.http.get(f"/internal/orgs/{uuid4()}/posts/{post['id']}/comments")
    assert other_org.status_code == 404
    anonymous = await control.http.get(
        f"/internal/orgs/{t.org_id}/posts/{post['id']}/comments",
        headers={"X-Pulse-Service-Token": "wrong"},
    )
    assert anonymous.status_code == 401


async def test_a_failing_comments_endpoint_leaves_the_metrics_pull_alone(
    bus: Bus,
    fake: Any,
    admin_db: asyncpg.Connection,
    control: Control,
    probe: Probe,
) -> None:
    t = await create_tenant(bus, admin_db)
    fake.behave(platform="youtube", endpoint="comments", mode="500", times=100)
    fake.behave(platform="instagram", endpoint="comments", mode="malformed", times=100)
    youtube, instagram = await register(bus, t, ["youtube", "instagram"])

    (failed,) = await wait_comment_pulls(admin_db, youtube["id"], 1)
    assert (failed["status"], failed["error_code"], failed["http_status"]) == (
        "failed",
        "server_error",
        500,
    )
    assert failed["attempts"] == 3  # retried like a metrics call (3 attempts in this env)
    assert (failed["received"], failed["new_comments"], failed["pages"]) == (0, 0, 0)
    (odd,) = await wait_comment_pulls(admin_db, instagram["id"], 1)
    assert (odd["status"], odd["error_code"]) == ("failed", "unrecognised_body")

    for post in (youtube, instagram):
        (run,) = await metrics_runs(admin_db, post["id"])
        assert (run["status"], run["error_code"]) == ("ok", None)
        samples = await admin_db.fetchval(
            "SELECT count(*) FROM ingest.samples s JOIN ingest.tracked_posts p "
            "ON p.key = s.post_key WHERE p.id = $1",
            post["id"],
        )
        assert samples == 1
        assert await stored(admin_db, post["id"]) == []
    status = await control.status(t.org_id, t.campaign_id)
    assert {i["status"] for i in status["items"]} == {"ok"}
    assert {i["consecutive_failures"] for i in status["items"]} == {0}
    await asyncio.sleep(0.5)
    for post in (youtube, instagram):
        assert probe.of("post.pull_failed", post["id"]) == []
        assert probe.of("post.comments_scored", post["id"]) == []

    # The endpoint recovers; once the cadence has passed, the next pull reads the comments.
    fake.behave(platform="youtube", endpoint="comments", mode="ok")
    choose_comments(fake, youtube["url"], 12, "positive")
    await control.set_clock(7 * H)
    await control.pull(t.org_id, youtube["id"])
    pulls = await wait_comment_pulls(admin_db, youtube["id"], 2)
    assert (pulls[-1]["status"], pulls[-1]["new_comments"]) == ("ok", 12)
    event = await wait_scored(probe, youtube["id"], 1)
    assert event["analysed"] == 12
    assert event["positive"] > event["negative"]
    fake.behave(platform="instagram", endpoint="comments", mode="ok")


async def test_comment_claims_follow_the_cadence(
    admin_db: asyncpg.Connection, ingest: ServiceProcess
) -> None:
    """The claim SQL on its own: once per interval per post, a backwards clock counts as due,
    and a fetch that made no call gives its claim back (only if it is still its own)."""
    org_id, post_id = uuid4(), uuid4()
    await admin_db.execute(
        "INSERT INTO ingest.tracked_posts (id, org_id, booking_id, campaign_id, platform, url, "
        "registered_at, updated_at) VALUES ($1, $2, $3, $4, 'tiktok', $5, now(), now())",
        post_id,
        org_id,
        uuid4(),
        uuid4(),
        post_url("tiktok"),
    )
    every = timedelta(hours=6)
    t0 = datetime.now(UTC)

    async def claim(at: datetime, org: UUID = org_id) -> bool:
        rows = await repository.claim_comment_pulls(admin_db, org, [post_id], now=at, every=every)
        return [r["id"] for r in rows] == [post_id]

    assert await claim(t0)
    assert not await claim(t0 + timedelta(hours=5))
    assert not await claim(t0 + every, org=uuid4()), "another organization's post"
    assert await claim(t0 + every)
    assert await claim(t0 - timedelta(days=1)), "a clock moved backwards"

    stamp = t0 - timedelta(days=1)
    await repository.release_comment_claim(admin_db, post_id, stamp - timedelta(seconds=1))
    assert not await claim(stamp + timedelta(hours=1)), "a stale release changes nothing"
    await repository.release_comment_claim(admin_db, post_id, stamp)
    assert await claim(stamp + timedelta(hours=1))

    await admin_db.execute(
        "UPDATE ingest.tracked_posts SET removed_at = now() WHERE id = $1", post_id
    )
    assert not await claim(t0 + 10 * every), "a removed post"
