"""P5: the public share JSON, GET /api/share/{token}, at 32 concurrent clients
(target p95 ≤ 15 ms).

Share links are made the way staff make them (POST /api/campaigns/{id}/share-links), one per
campaign for 32 campaigns of the read set, and the clients pick a link at random. The share
service rate-limits per address and per link; every bench client is 127.0.0.1, so the bench
raises those buckets through the service's own settings (system.SHARE_RATE_LIMITS) — the
limiter still runs on every request, it just never says 429. Each view also writes its
access-log row and view count, as in production.
"""

from __future__ import annotations

import random

import httpx

from ..api import bounded, login, ok, staff_client
from ..cpu import meter, per_unit_ms
from ..floor import measure_floor
from ..loadgen import LoadSpec, run_load_process
from ..stats import Latency, Result
from ..system import SHARE_RATE_LIMITS
from . import Context, load_two_replicas

TARGET_P95_MS = 15.0


async def run(ctx: Context) -> list[Result]:
    world, sizes = ctx.world, ctx.world.sizes
    campaigns = random.Random(5).sample(
        world.reads.campaigns, min(sizes.share_links, len(world.reads.campaigns))
    )
    async with staff_client(world.system.url("gateway")) as api:
        await login(api, world.reads.email)
        links = await bounded(
            (ok(api.post(f"/api/campaigns/{c.id}/share-links", json={})) for c in campaigns), 8
        )
    tokens = [link["token"] for link in links]
    async with httpx.AsyncClient(base_url=world.system.url("share"), timeout=10) as share:
        first = await share.get(f"/api/share/{tokens[0]}")
        if first.status_code != 200:
            raise RuntimeError(f"share JSON: {first.status_code} {first.text[:300]}")
    spec = LoadSpec(
        port=world.system.ports["share"],
        paths={"share": [f"/api/share/{t}" for t in tokens]},
        clients=sizes.read_clients,
        seconds=sizes.read_seconds,
        warmup_seconds=sizes.warmup_seconds,
    )
    cpu = await meter(world.system.procs, world.database_url)
    load = await run_load_process(spec)
    used, spent = cpu.stop(), cpu.spent()
    floor = await measure_floor(
        world.system.log_dir,
        clients=sizes.read_clients,
        seconds=sizes.read_seconds,
        warmup_seconds=sizes.warmup_seconds,
        body_bytes=len(first.content),
    )
    statuses = load.statuses.get("share", {})
    good = statuses.get(200, 0)
    bad = sum(n for code, n in statuses.items() if code != 200) + load.error_count
    latency = Latency.of(load.latencies.get("share", []))
    elapsed = load.measured_seconds + sizes.warmup_seconds
    two = await load_two_replicas(ctx, "share", spec)
    statuses2 = two.load.statuses.get("share", {})
    good2 = statuses2.get(200, 0)
    bad2 = sum(n for code, n in statuses2.items() if code != 200) + two.load.error_count
    latency2 = Latency.of(two.load.latencies.get("share", []))
    return [
        Result(
            id="P5",
            title=f"Public share JSON, {sizes.read_clients} clients",
            figure=latency.p95 if latency else None,
            unit="ms p95",
            target=f"p95 ≤ {TARGET_P95_MS:g} ms",
            met=bool(latency and latency.p95 <= TARGET_P95_MS),
            latency=latency,
            baseline=floor.latency.p95 if floor.latency else None,
            baseline_name="framework floor p95 ms (FastAPI + uvicorn alone, same clients)",
            ratio=round(latency.p95 / floor.latency.p95, 2) if latency and floor.latency else None,
            missing=bad,
            counts={"requests": good + bad, "ok": good, "failed": bad, "links": len(tokens)},
            details={
                "req_per_s": round(good / load.measured_seconds),
                "statuses": statuses,
                "rate_limits_raised_to": SHARE_RATE_LIMITS,
                "load_generator_cpu_cores": round(load.cpu_seconds / elapsed, 2),
                "cpu_cores": used,
                "cpu_ms_per_request": per_unit_ms(spent, load.completed),
                "payload_bytes": len(first.content),
                "framework_floor": floor.as_json(),
                # Little's law: closed-loop clients ÷ the p95 target (mean ≤ p95).
                "req_per_s_needed_for_p95_target": round(
                    sizes.read_clients / (TARGET_P95_MS / 1000)
                ),
                "errors": load.errors[:10],
            },
        ),
        Result(
            id="P5-2r",
            title="The same views through two share replicas on the same machine",
            figure=latency2.p95 if latency2 else None,
            unit="ms p95",
            target=f"p95 ≤ {TARGET_P95_MS:g} ms",
            met=bool(latency2 and latency2.p95 <= TARGET_P95_MS),
            latency=latency2,
            baseline=latency.p95 if latency else None,
            baseline_name="p95 ms through one share service (P5)",
            ratio=round(latency2.p95 / latency.p95, 2) if latency and latency2 else None,
            missing=bad2,
            counts={"requests": good2 + bad2, "ok": good2, "failed": bad2},
            details={
                "req_per_s": round(good2 / two.load.measured_seconds),
                "statuses": statuses2,
                "cpu_cores": two.cpu_cores,
                "cpu_ms_per_request": two.cpu_ms_per_request,
                "errors": two.load.errors[:10],
            },
        ),
    ]
