"""P1: sustained end-to-end ingest, against the raw broker rate measured in the same run.

The baseline first: what one Python AMQP client gets from this broker per message (aio-pika,
persistent publish with confirms, then consume + ack with prefetch 1000, ~373-byte bodies, on a
quorum queue like Pulse's, in the run's vhost). One message per sample could never go faster,
so P1's target is a multiple of it (≥ 3×), as well as the absolute ≥ 20,000 samples/s.

Then the load: n8n-shaped POST /api/ingest/posts batches of 500 items, a few in flight, for a
fixed time, over "20 bookings × 10 TikTok posts" per campaign; then the wait until the numbers
the gateway shows (GET /api/campaigns/{id}) include every accepted sample. The end-to-end rate
is accepted samples / (first request → numbers complete). Missing samples are counted three
ways, all of which must be zero: items ingest rejected or never accepted, accepted samples not
stored (a count over ingest.samples), and samples behind in each post's latest counters.

P6's memory sampler runs during the whole scenario.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aio_pika
import asyncpg
import httpx

from ..api import login, ok, staff_client
from ..cpu import meter, per_unit_ms
from ..feed import Feed, sample_number
from ..infra import queue_depths_async, wait_drained
from ..stats import Latency, Result
from . import Context
from .p6_memory import RssSampler
from .p7_disk import samples_sizes

TARGET_RATE = 20_000
# How long to wait, after the numbers are current, for the other consumers (the alerter's
# backlog) to catch up before the next scenario; beyond it the backlog is reported.
DRAIN_LIMIT_S = {False: 300.0, True: 60.0}
TARGET_RATIO = 3.0
BODY = (b'{"platform":"tiktok","post_id":"' + b"0" * 36 + b'","metrics":{"views":1}}').ljust(
    373, b" "
)


async def broker_baseline(amqp_url: str, messages: int) -> dict[str, float]:
    """msg/s for persistent publish with confirms (100 awaiting confirms at a time), then for
    consume + ack (prefetch 1000), on a quorum queue of the bench's own."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(
            f"bench.baseline.{uuid.uuid4().hex[:8]}",
            durable=True,
            arguments={"x-queue-type": "quorum"},
        )
        started = time.perf_counter()
        for start in range(0, messages, 100):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(BODY, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                        routing_key=queue.name,
                    )
                    for _ in range(min(100, messages - start))
                )
            )
        publish_s = time.perf_counter() - started

        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=1000)
        target = await consumer.get_queue(queue.name)
        received = 0
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == messages and not done.done():
                done.set_result(None)

        started = time.perf_counter()
        tag = await target.consume(on_message)
        await asyncio.wait_for(done, timeout=300)
        consume_s = time.perf_counter() - started
        await target.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    publish = messages / publish_s
    consume = messages / consume_s
    return {
        "messages": messages,
        "body_bytes": len(BODY),
        "publish_msg_s": round(publish),
        "consume_msg_s": round(consume),
        # The most a one-sample-per-message pipeline could carry: its slower half.
        "msg_s": round(min(publish, consume)),
    }


class Sender:
    """Closed-loop senders: each keeps one batch in flight, retrying a batch (idempotent:
    ingest dedupes on post and observed_at) until it is answered 200."""

    def __init__(self, feed: Feed, client: httpx.AsyncClient, token: str, batch: int) -> None:
        self.feed, self.client, self.batch = feed, client, batch
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.latencies: list[float] = []
        self.totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "failed_items": 0}
        self.errors: list[str] = []

    async def send(self, body: bytes, items: int) -> None:
        for attempt in range(5):
            started = time.perf_counter()
            try:
                response = await self.client.post(
                    "/api/ingest/posts", content=body, headers=self.headers
                )
            except httpx.HTTPError as exc:
                self.errors.append(repr(exc))
            else:
                if response.status_code == 200:
                    self.latencies.append(time.perf_counter() - started)
                    answer = response.json()
                    self.totals["accepted"] += answer["accepted"]
                    self.totals["duplicates"] += answer["duplicates"]
                    self.totals["rejected"] += len(answer["rejected"])
                    return
                self.errors.append(f"{response.status_code} {response.text[:200]}")
            await asyncio.sleep(0.2 * 2**attempt)
        self.totals["failed_items"] += items

    async def loop(self, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            await self.send(*self.feed.batch(self.batch))


async def stored_samples(admin: asyncpg.Connection, org_id: str) -> int:
    """Samples ingest holds for the organization's posts (a count, the bench's only SQL look
    at ingest in P1: the check that "accepted" means stored)."""
    count: int = await admin.fetchval(
        "SELECT count(*) FROM ingest.samples s JOIN ingest.tracked_posts t ON t.key = s.post_key "
        "WHERE t.org_id = $1",
        uuid.UUID(org_id),
    )
    return count


async def samples_size(admin: asyncpg.Connection) -> int:
    size: int = (await samples_sizes(admin))["total"]
    return size


async def wait_complete(
    api: httpx.AsyncClient, expected: dict[str, int], timeout: float
) -> tuple[bool, dict[str, int]]:
    """Poll each campaign's KPIs through the gateway until its views are what was sent."""
    deadline = time.monotonic() + timeout
    seen: dict[str, int] = {}
    while True:
        docs = await asyncio.gather(*(ok(api.get(f"/api/campaigns/{cid}")) for cid in expected))
        seen = {d["id"]: (d.get("kpis") or {}).get("actual_views", 0) for d in docs}
        if seen == expected:
            return True, seen
        if time.monotonic() > deadline:
            return False, seen
        await asyncio.sleep(0.25)


async def samples_behind(api: httpx.AsyncClient, feed: Feed, campaign_ids: list[str]) -> int:
    """Σ over posts of (samples sent − the sample number their latest counters show)."""
    latest: dict[str, int] = {}
    for cid in campaign_ids:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = await ok(api.get(f"/api/campaigns/{cid}/posts", params=params))
            for item in page["items"]:
                views = (item.get("latest") or {}).get("views")
                latest[str(item["id"])] = sample_number(views)
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return sum(
        max(0, sent - latest.get(post.id, 0))
        for post, sent in zip(feed.posts, feed.sent, strict=True)
    )


async def run(ctx: Context) -> list[Result]:
    world, sizes = ctx.world, ctx.world.sizes
    baseline = await broker_baseline(world.system.amqp_url, sizes.broker_messages)
    token = await ctx.ingest_token()
    feed = Feed(world.ingest.posts)
    ctx.shared["feed"] = feed
    campaign_ids = [c.id for c in world.ingest.campaigns]
    ctx.shared["rss_idle_mb"] = {
        n: round((p.rss_bytes() or 0) / 2**20, 1) for n, p in world.system.procs.items()
    }
    admin = await world.admin()
    limits = httpx.Limits(max_connections=sizes.ingest_in_flight * 2)
    try:
        stored_before = await stored_samples(admin, world.ingest.org_id)
        size_before = await samples_size(admin)
        sampler = RssSampler(world.system.procs).start()
        cpu = await meter(world.system.procs, world.database_url)
        whole = await meter(world.system.procs, world.database_url)
        async with httpx.AsyncClient(
            base_url=world.system.url("ingest"), timeout=60, limits=limits
        ) as http:
            sender = Sender(feed, http, token, sizes.ingest_batch)
            started = time.monotonic()
            stop_at = started + sizes.ingest_seconds
            await asyncio.gather(*(sender.loop(stop_at) for _ in range(sizes.ingest_in_flight)))
            sent_s = time.monotonic() - started
        cpu_send = cpu.stop()
        depths_at_stop = await queue_depths_async(world.vhost)
        async with staff_client(world.system.url("gateway")) as api:
            await login(api, world.ingest.email)
            complete, _ = await wait_complete(api, feed.expected_views(), sizes.drain_timeout_s)
            e2e_s = time.monotonic() - started
            behind = await samples_behind(api, feed, campaign_ids)
        depths_end = await queue_depths_async(world.vhost)
        # The numbers are current; the other consumers (alerter, share) may still be behind.
        # Their catch-up time is a figure of its own, and the next scenario starts quiet.
        drained_s, still_busy = await wait_drained(world.vhost, DRAIN_LIMIT_S[ctx.smoke])
        spent = whole.spent()
        ctx.shared["rss_peak_mb"] = await sampler.stop()
        ctx.shared["rss_samples"] = sampler.samples
        stored = await stored_samples(admin, world.ingest.org_id) - stored_before
        size_growth = await samples_size(admin) - size_before
    finally:
        await admin.close()

    accepted = sender.totals["accepted"]
    not_accepted = feed.generated - accepted - sender.totals["duplicates"]
    not_stored = max(0, accepted - stored)
    rate = accepted / e2e_s
    ratio = rate / baseline["msg_s"]
    ctx.shared["p1_growth"] = {"bytes": size_growth, "samples": stored}
    return [
        Result(
            id="P1",
            title="Sustained ingest, HTTP batches → numbers current",
            figure=round(rate),
            unit="samples/s end to end",
            target=f"≥ {TARGET_RATE:,} samples/s and ≥ {TARGET_RATIO:g}× raw broker; 0 missing",
            met=rate >= TARGET_RATE and ratio >= TARGET_RATIO and complete,
            latency=Latency.of(sender.latencies),
            baseline=baseline["msg_s"],
            baseline_name="raw broker msg/s (aio-pika, quorum, confirms)",
            ratio=round(ratio, 2),
            missing=not_accepted + not_stored + behind,
            counts={
                "sent": feed.generated,
                **sender.totals,
                "stored": stored,
                "not_accepted": not_accepted,
                "not_stored": not_stored,
                "behind_in_numbers": behind,
                "requests": len(sender.latencies),
                "request_errors": len(sender.errors),
            },
            details={
                "accepted_per_s_http": round(accepted / sent_s),
                "send_seconds": round(sent_s, 1),
                "numbers_complete_after_s": round(e2e_s, 1),
                "drain_after_send_s": round(e2e_s - sent_s, 1),
                "numbers_complete": complete,
                "batch": sizes.ingest_batch,
                "in_flight": sizes.ingest_in_flight,
                "campaigns": len(campaign_ids),
                "posts": len(feed.posts),
                "broker": baseline,
                "cpu_cores_while_sending": cpu_send,
                # Everything P1 cost, from the first request until every queue was drained
                # (RabbitMQ's share is the whole server's, other vhosts included).
                "cpu_ms_per_1000_samples": per_unit_ms(spent, accepted // 1000),
                "queue_depths_when_sending_stopped": depths_at_stop,
                "queue_depths_when_numbers_complete": depths_end,
                "every_queue_drained_after_numbers_s": (
                    round(drained_s, 1) if drained_s is not None else None
                ),
                "queues_still_busy_at_drain_limit": still_busy,
                "samples_table_growth_bytes": size_growth,
                "errors": sender.errors[:10],
            },
        )
    ]
