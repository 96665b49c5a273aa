"""P2: freshness — ingest's answer to a sample → the numbers that include it are out, on the
bus (`kpi.updated` seen by a probe consumer) and on the campaign page as a browser shows them,
while the ingest agency is fed 2,000 samples/s in the background (target p95 ≤ 100 ms, p99 ≤
250 ms).

The probe campaign has one post, so numbers of that campaign whose views reach the probe's views
are the ones that include the probe sample. Three channels, each timed:
- bus: a plain aio-pika client with its own exclusive queue bound to `pulse.events` /
  `kpi.updated` sees the document;
- sse: GET /api/stream, signed in through the login form like the page, carries the notice of
  that document (type, campaign_id, version: a notice has no views, so it is matched by version
  with the documents the bus client saw) — design/performance.md's P2;
- page: what the campaign page's script does with the notice: for a version newer than the one
  it shows, it fetches the numbers fragment, one fetch at a time; the probe is seen when the
  fragment's views card shows it. This is what a person looking at the page waits for.
Probes go one at a time; each is timed from ingest's 200 (and, in the details, from the request).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx

from ..api import sign_in_page, staff_client
from ..cpu import meter, per_unit_ms
from ..feed import Feed
from ..infra import wait_drained
from ..stats import Latency, Result
from . import Context

TARGET_P95_MS, TARGET_P99_MS = 100.0, 250.0
PROBE_TIMEOUT_S = 10.0
PROBE_GAP_S = 0.1
# What the campaign page reads after a swap: the numbers' version and the views card.
SHOWN_VERSION = re.compile(r'id="campaign-numbers"[^>]*\bdata-version="(\d+)"')
SHOWN_VIEWS = re.compile(r'data-kpi="kpi-views">([\d,]+)<')
SERVER_TIMING = re.compile(r"dur=([\d.]+)")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHANNELS = {
    "bus": "kpi.updated on the bus",
    "sse": "its notice on the SSE stream",
    "page": "the figure on the campaign page (the notice, then the numbers fragment)",
}


def version_of(as_of: str) -> int:
    """The gateway's version of a document: its as_of in whole microseconds since 1970."""
    return (datetime.fromisoformat(as_of) - EPOCH) // timedelta(microseconds=1)


@dataclass
class Watch:
    """The highest probe views seen so far on one channel, and who waits for which."""

    campaign_id: str
    seen: int = 0
    computed_at: float = 0.0  # wall clock: the as_of of the numbers that raised `seen`
    waiters: list[tuple[int, asyncio.Future[tuple[float, float]]]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # every message seen, in bytes

    def saw(self, views: int, computed_at: float, at: float) -> None:
        if views > self.seen:
            self.seen, self.computed_at = views, computed_at
        for wanted, future in list(self.waiters):
            if wanted <= self.seen and not future.done():
                future.set_result((at, self.computed_at))

    def wait_for(self, views: int) -> asyncio.Future[tuple[float, float]]:
        future: asyncio.Future[tuple[float, float]] = asyncio.get_running_loop().create_future()
        self.waiters = [(v, f) for v, f in self.waiters if not f.done()]
        self.waiters.append((views, future))
        return future


@dataclass
class Notices:
    """The stream's notices of the probe campaign, matched by version with the documents the
    bus client saw (whichever of the two arrives first)."""

    watch: Watch
    views: dict[int, int] = field(default_factory=dict)  # version → views, from the bus
    unmatched: dict[int, float] = field(default_factory=dict)  # version → notice arrival

    def document(self, version: int, views: int) -> None:
        self.views[version] = views
        if (at := self.unmatched.pop(version, None)) is not None:
            self.watch.saw(views, version / 1e6, at)

    def notice(self, version: int, at: float) -> None:
        if (views := self.views.get(version)) is not None:
            self.watch.saw(views, version / 1e6, at)
        else:
            self.unmatched[version] = at


async def probe_consumer(
    amqp_url: str, watch: Watch, notices: Notices, ready: asyncio.Event
) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind("pulse.events", routing_key="kpi.updated")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            at = time.perf_counter()
            watch.sizes.append(len(message.body))
            if watch.campaign_id.encode() not in message.body:
                return
            data = json.loads(message.body)["data"]
            if data["campaign"]["campaign_id"] == watch.campaign_id:
                views, version = int(data["campaign"]["actual_views"]), version_of(data["as_of"])
                watch.saw(views, version / 1e6, at)
                notices.document(version, views)

        await queue.consume(on_message, no_ack=True)
        ready.set()
        await asyncio.Future()  # until cancelled
    finally:
        await connection.close()


@dataclass
class Page:
    """The campaign page's live path: the version on screen and the newest one announced."""

    watch: Watch
    notices: Notices
    fragment_url: str
    shown: int = 0
    wanted: int = 0
    fetch_s: list[float] = field(default_factory=list)  # each fragment fetch, start to end
    server_s: list[float] = field(default_factory=list)  # of which the gateway's own time
    wake: asyncio.Event = field(default_factory=asyncio.Event)


async def page_stream(page_http: httpx.AsyncClient, page: Page, ready: asyncio.Event) -> None:
    """The stream, as the page's EventSource reads it."""
    async with page_http.stream("GET", "/api/stream", timeout=None) as response:
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                ready.set()
            elif line.startswith("data: ") and page.watch.campaign_id in line:
                at = time.perf_counter()
                page.notices.watch.sizes.append(len(line) - 6)
                notice = json.loads(line[6:])
                if notice.get("type") != "numbers":
                    continue
                page.notices.notice(notice["version"], at)
                if notice["version"] <= page.shown:
                    continue  # the page skips a version it already shows
                page.wanted = max(page.wanted, notice["version"])
                page.wake.set()


async def page_fetcher(page_http: httpx.AsyncClient, page: Page) -> None:
    """One fragment fetch at a time; notices that arrive meanwhile make one more."""
    while True:
        await page.wake.wait()
        page.wake.clear()
        if page.wanted <= page.shown:
            continue
        started = time.perf_counter()
        answer = await page_http.get(page.fragment_url, headers={"HX-Request": "true"})
        at = time.perf_counter()
        page.fetch_s.append(at - started)
        if timing := SERVER_TIMING.search(answer.headers.get("server-timing", "")):
            page.server_s.append(float(timing.group(1)) / 1000)
        version, views = SHOWN_VERSION.search(answer.text), SHOWN_VIEWS.search(answer.text)
        if answer.status_code != 200 or version is None:
            raise RuntimeError(f"numbers fragment: {answer.status_code} {answer.text[:300]}")
        page.shown = max(page.shown, int(version.group(1)))
        if views is not None:  # none before the campaign's first numbers
            page.watch.saw(int(views.group(1).replace(",", "")), page.shown / 1e6, at)
        if page.wanted > page.shown:
            page.wake.set()  # announced during the fetch, or this replica lagged: again


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
    watches = {channel: Watch(world.probe.id) for channel in CHANNELS}
    bus, notices = watches["bus"], Notices(watches["sse"])
    page = Page(watches["page"], notices, f"/campaigns/{world.probe.id}/fragments/numbers")
    bus_ready, page_ready, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    from_answer: dict[str, list[float]] = {c: [] for c in CHANNELS}
    from_request: dict[str, list[float]] = {c: [] for c in CHANNELS}
    # Where the time goes, on the wall clock: ingest's answer → the aggregator's as_of, and
    # as_of → seen (outbox relay, broker, and for the page the gateway's stream and fragment).
    to_computed: dict[str, list[float]] = {c: [] for c in CHANNELS}
    from_computed: dict[str, list[float]] = {c: [] for c in CHANNELS}
    missing = dict.fromkeys(CHANNELS, 0)
    probes = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        staff_client(world.system.url("gateway")) as browser,
        httpx.AsyncClient(base_url=world.system.url("ingest"), timeout=30) as http,
    ):
        await sign_in_page(browser, world.ingest.email)
        listeners = [
            asyncio.create_task(probe_consumer(world.system.amqp_url, bus, notices, bus_ready)),
            asyncio.create_task(page_stream(browser, page, page_ready)),
            asyncio.create_task(page_fetcher(browser, page)),
        ]
        try:
            await asyncio.wait_for(asyncio.gather(bus_ready.wait(), page_ready.wait()), 30)
            page.wanted = 1  # the page's catch-up once the stream is open
            page.wake.set()
            load = asyncio.create_task(
                background(feed, http, token, sizes.background_samples_per_s, stop)
            )
            await asyncio.sleep(1.0)  # the background load settles before the first probe
            # Who used the cores while the probes ran: on two cores every service's share of
            # the load is latency for the probe (the machine near 2.0 is a saturated one).
            cpu = await meter(world.system.procs, world.database_url)
            documents_before = len(bus.sizes)
            end = time.monotonic() + sizes.freshness_seconds
            views = max(*(w.seen for w in watches.values()), 1_000_000)
            while time.monotonic() < end:
                views += 1
                probes += 1
                waits = {channel: w.wait_for(views) for channel, w in watches.items()}
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
                if stopped := [t for t in listeners if t.done()]:
                    stopped[0].result()  # its error, if it failed
                    raise RuntimeError("a P2 listener stopped: the stream closed?")
                await asyncio.sleep(PROBE_GAP_S)
            used, spent = cpu.stop(), cpu.spent()
            documents = len(bus.sizes) - documents_before
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
        # While the probes ran: cores per process group, and the CPU each kpi.updated costs in
        # all (its recompute, every consumer, the broker and PostgreSQL; the batches that
        # caused it included).
        "cpu_cores": used,
        "cpu_ms_per_kpi_updated": per_unit_ms(spent, documents),
    }
    notice_sizes = sorted(watches["sse"].sizes)
    # What the page's live path cost: the stream's notices and the fragment fetches they caused.
    page_path = {
        "stream_notices": len(notice_sizes),
        "stream_notice_bytes_max": notice_sizes[-1] if notice_sizes else None,
        "fragment_fetches": len(page.fetch_s),
        "fragment_fetch": Latency.of(page.fetch_s),
        "fragment_server_time": Latency.of(page.server_s),
    }
    results = []
    for channel, title in CHANNELS.items():
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
                    **(page_path if channel != "bus" else {}),
                    "every_queue_drained_after_load_s": (
                        round(drained_s, 1) if drained_s is not None else None
                    ),
                },
            )
        )
    return results
