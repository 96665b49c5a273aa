"""P2: freshness — ingest's answer to a sample → the numbers that include it are out, on the
bus (`kpi.updated` seen by a probe consumer) and on the gateway's SSE stream, while the ingest
agency is fed 2,000 samples/s in the background (target p95 ≤ 100 ms, p99 ≤ 250 ms).

The probe campaign has one post, so a `kpi.updated` of that campaign whose actual_views reach
the probe's views is the one that includes the probe sample. The probe consumer is a plain
aio-pika client with its own exclusive queue bound to `pulse.events` / `kpi.updated`; the SSE
client reads GET /api/stream as a signed-in staff user, like the dashboard does. Probes go one
at a time; each is timed from ingest's 200 (and, in the details, from the request).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx

from ..api import login, staff_client
from ..feed import Feed
from ..infra import wait_drained
from ..stats import Latency, Result
from . import Context

TARGET_P95_MS, TARGET_P99_MS = 100.0, 250.0
PROBE_TIMEOUT_S = 10.0
PROBE_GAP_S = 0.1


@dataclass
class Watch:
    """The highest probe views seen so far on one channel, and who waits for which."""

    campaign_id: str
    seen: int = 0
    computed_at: float = 0.0  # wall clock: the as_of of the document that raised `seen`
    waiters: list[tuple[int, asyncio.Future[tuple[float, float]]]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # every kpi.updated seen, in bytes

    def offer(self, body: bytes | str, at: float) -> None:
        self.sizes.append(len(body))
        key = self.campaign_id if isinstance(body, str) else self.campaign_id.encode()
        if key not in body:  # type: ignore[operator]
            return
        doc = json.loads(body)
        campaign = doc["data"]["campaign"]
        if campaign["campaign_id"] != self.campaign_id:
            return
        if int(campaign["actual_views"]) > self.seen:
            self.seen = int(campaign["actual_views"])
            self.computed_at = datetime.fromisoformat(doc["data"]["as_of"]).timestamp()
        for views, future in list(self.waiters):
            if views <= self.seen and not future.done():
                future.set_result((at, self.computed_at))

    def wait_for(self, views: int) -> asyncio.Future[tuple[float, float]]:
        future: asyncio.Future[tuple[float, float]] = asyncio.get_running_loop().create_future()
        self.waiters = [(v, f) for v, f in self.waiters if not f.done()]
        self.waiters.append((views, future))
        return future


async def probe_consumer(amqp_url: str, watch: Watch, ready: asyncio.Event) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind("pulse.events", routing_key="kpi.updated")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            watch.offer(message.body, time.perf_counter())

        await queue.consume(on_message, no_ack=True)
        ready.set()
        await asyncio.Future()  # until cancelled
    finally:
        await connection.close()


async def sse_client(api: httpx.AsyncClient, watch: Watch, ready: asyncio.Event) -> None:
    async with api.stream("GET", "/api/stream", timeout=None) as response:
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                ready.set()
            elif line.startswith("data: ") and watch.campaign_id in line:
                watch.offer(line[6:], time.perf_counter())


async def background(
    feed: Feed, http: httpx.AsyncClient, token: str, per_s: int, stop: asyncio.Event
) -> dict[str, float]:
    """`per_s` samples a second in 10 batches a second, on a fixed clock (not closed loop):
    a slow answer does not slow the load down; at most 8 batches are in flight."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    batch = max(1, per_s // 10)
    gate = asyncio.Semaphore(8)
    totals: dict[str, float] = {"sent": 0, "accepted": 0, "skipped_batches": 0, "errors": 0}
    started = time.monotonic()
    tasks: set[asyncio.Task[None]] = set()

    async def one(body: bytes, n: int) -> None:
        try:
            response = await http.post("/api/ingest/posts", content=body, headers=headers)
            if response.status_code == 200:
                totals["accepted"] += response.json()["accepted"]
            else:
                totals["errors"] += 1
        except httpx.HTTPError:
            totals["errors"] += 1
        finally:
            gate.release()

    tick = time.monotonic()
    while not stop.is_set():
        if gate.locked():
            totals["skipped_batches"] += 1
        else:
            await gate.acquire()
            body, n = feed.batch(batch)
            totals["sent"] += n
            task = asyncio.create_task(one(body, n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        tick += 0.1
        await asyncio.sleep(max(0.0, tick - time.monotonic()))
    await asyncio.gather(*tasks)
    totals["seconds"] = round(time.monotonic() - started, 1)
    return totals


async def run(ctx: Context) -> list[Result]:
    world, sizes = ctx.world, ctx.world.sizes
    token = await ctx.ingest_token()
    feed: Feed = ctx.shared.get("feed") or Feed(world.ingest.posts)
    ctx.shared["feed"] = feed
    probe_post = world.probe.posts[0]
    bus, sse = Watch(world.probe.id), Watch(world.probe.id)
    bus_ready, sse_ready, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    from_answer: dict[str, list[float]] = {"bus": [], "sse": []}
    from_request: dict[str, list[float]] = {"bus": [], "sse": []}
    # Where the time goes, on the wall clock: ingest's answer → the aggregator's as_of, and
    # as_of → seen (outbox relay, broker, and for SSE the gateway).
    to_computed: dict[str, list[float]] = {"bus": [], "sse": []}
    from_computed: dict[str, list[float]] = {"bus": [], "sse": []}
    missing = {"bus": 0, "sse": 0}
    probes = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        staff_client(world.system.url("gateway")) as api,
        httpx.AsyncClient(base_url=world.system.url("ingest"), timeout=30) as http,
    ):
        await login(api, world.ingest.email)
        listeners = [
            asyncio.create_task(probe_consumer(world.system.amqp_url, bus, bus_ready)),
            asyncio.create_task(sse_client(api, sse, sse_ready)),
        ]
        try:
            await asyncio.wait_for(asyncio.gather(bus_ready.wait(), sse_ready.wait()), 30)
            load = asyncio.create_task(
                background(feed, http, token, sizes.background_samples_per_s, stop)
            )
            await asyncio.sleep(1.0)  # the background load settles before the first probe
            end = time.monotonic() + sizes.freshness_seconds
            views = max(bus.seen, sse.seen, 1_000_000)
            while time.monotonic() < end:
                views += 1
                probes += 1
                waits = {"bus": bus.wait_for(views), "sse": sse.wait_for(views)}
                item: dict[str, Any] = {
                    "post_id": probe_post.id,
                    "observed_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "metrics": {"views": views, "likes": views // 20},
                }
                sent_at = time.perf_counter()
                response = await http.post("/api/ingest/posts", json=item, headers=headers)
                answered_at, answered_wall = time.perf_counter(), time.time()
                if response.status_code != 200 or response.json()["accepted"] != 1:
                    raise RuntimeError(f"probe refused: {response.status_code} {response.text}")
                for channel, future in waits.items():
                    try:
                        seen_at, computed_wall = await asyncio.wait_for(
                            future, PROBE_TIMEOUT_S - (time.perf_counter() - answered_at)
                        )
                    except TimeoutError:
                        missing[channel] += 1
                        continue
                    from_answer[channel].append(seen_at - answered_at)
                    from_request[channel].append(seen_at - sent_at)
                    to_computed[channel].append(computed_wall - answered_wall)
                    from_computed[channel].append(
                        seen_at - answered_at - (computed_wall - answered_wall)
                    )
                await asyncio.sleep(PROBE_GAP_S)
            stop.set()
            totals = await load
            drained_s, _ = await wait_drained(world.vhost, sizes.drain_timeout_s)
        finally:
            stop.set()
            for task in listeners:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    lengths = sorted(bus.sizes)
    traffic = {
        # What every kpi.updated consumer (alerter, share, each gateway) receives under this
        # load: the broker's side of the planning section.
        "kpi_updated_messages": len(lengths),
        "kpi_updated_per_s": round(len(lengths) / max(totals["seconds"], 1), 1),
        "kpi_updated_bytes_p50": lengths[len(lengths) // 2] if lengths else None,
        "kpi_updated_bytes_max": lengths[-1] if lengths else None,
    }
    results = []
    for channel, title in (("bus", "kpi.updated on the bus"), ("sse", "event on the SSE stream")):
        latency = Latency.of(from_answer[channel])
        results.append(
            Result(
                id=f"P2-{channel}",
                title=f"Freshness: ingest answer → {title}",
                figure=latency.p95 if latency else None,
                unit="ms p95",
                target=f"p95 ≤ {TARGET_P95_MS:g} ms, p99 ≤ {TARGET_P99_MS:g} ms",
                met=bool(latency and latency.p95 <= TARGET_P95_MS and latency.p99 <= TARGET_P99_MS),
                latency=latency,
                missing=missing[channel],
                counts={"probes": probes, "seen": len(from_answer[channel]), **totals},
                details={
                    "background_samples_per_s": round(
                        totals["accepted"] / max(totals["seconds"], 1)
                    ),
                    "background_target_per_s": sizes.background_samples_per_s,
                    "from_request": Latency.of(from_request[channel]),
                    "answer_to_computed": Latency.of(to_computed[channel]),
                    "computed_to_seen": Latency.of(from_computed[channel]),
                    **traffic,
                    "every_queue_drained_after_load_s": (
                        round(drained_s, 1) if drained_s is not None else None
                    ),
                },
            )
        )
    return results
