"""P3: the dashboard's reads over the 10M-sample set, 32 concurrent clients, through the
gateway (target p95 ≤ 25 ms and ≥ 800 requests/s).

Each client is a keep-alive connection in a closed loop, signed in as staff (bearer JWT), that
asks for one of the four reads at random — campaign detail, bookings, daily series, compare of
two campaigns — for a random campaign of the 500. The client runs in its own process
(loadgen.py); its CPU time is reported, so a reader can see it was not the bottleneck. A
request answered anything but 200 counts as missing.
"""

from __future__ import annotations

import random

import httpx

from ..api import login, staff_client
from ..cpu import meter, per_unit_ms
from ..floor import measure_floor
from ..loadgen import LoadResult, LoadSpec, run_load_process
from ..stats import Latency, Result
from . import Context, load_two_replicas

TARGET_P95_MS = 25.0
TARGET_RPS = 800.0
PATHS_PER_ENDPOINT = 500


def read_paths(campaign_ids: list[str], rng: random.Random) -> dict[str, list[str]]:
    picks = [rng.choice(campaign_ids) for _ in range(PATHS_PER_ENDPOINT)]
    pairs = [rng.sample(campaign_ids, 2) for _ in range(PATHS_PER_ENDPOINT)]
    return {
        "campaign": [f"/api/campaigns/{c}" for c in picks],
        "bookings": [f"/api/campaigns/{c}/bookings" for c in picks],
        "daily": [f"/api/campaigns/{c}/daily" for c in picks],
        "compare": [f"/api/compare?ids={a},{b}" for a, b in pairs],
    }


def summarise(load: LoadResult) -> tuple[int, int, dict[str, Latency | None]]:
    """(answered 200, not answered 200, latency per endpoint)."""
    good = sum(s.get(200, 0) for s in load.statuses.values())
    bad = sum(n for s in load.statuses.values() for code, n in s.items() if code != 200)
    return good, bad + load.error_count, {k: Latency.of(v) for k, v in load.latencies.items()}


async def staff_token(gateway_url: str, email: str) -> str:
    async with staff_client(gateway_url) as api:
        return await login(api, email)


async def run(ctx: Context) -> list[Result]:
    world, sizes = ctx.world, ctx.world.sizes
    gateway = world.system
    token = await staff_token(gateway.url("gateway"), world.reads.email)
    ids = [c.id for c in world.reads.campaigns]
    paths = read_paths(ids, random.Random(3))
    # One request of each kind first: a broken route fails here, not as 32 × N errors.
    async with httpx.AsyncClient(
        base_url=gateway.url("gateway"), headers={"Authorization": f"Bearer {token}"}
    ) as check:
        sizes_seen = []
        for name, some in paths.items():
            response = await check.get(some[0])
            if response.status_code != 200:
                raise RuntimeError(f"{name} {some[0]}: {response.status_code} {response.text}")
            sizes_seen.append(len(response.content))
    spec = LoadSpec(
        port=gateway.ports["gateway"],
        paths=paths,
        clients=sizes.read_clients,
        seconds=sizes.read_seconds,
        warmup_seconds=sizes.warmup_seconds,
        headers={"Authorization": f"Bearer {token}"},
    )
    cpu = await meter(gateway.procs, world.database_url)
    load = await run_load_process(spec)
    used, spent = cpu.stop(), cpu.spent()
    good, bad, per_endpoint = summarise(load)
    overall = Latency.of([s for v in load.latencies.values() for s in v])
    rps = good / load.measured_seconds
    floor = await measure_floor(
        gateway.log_dir,
        clients=sizes.read_clients,
        seconds=sizes.read_seconds,
        warmup_seconds=sizes.warmup_seconds,
        body_bytes=sum(sizes_seen) // len(sizes_seen),
    )
    elapsed = load.measured_seconds + sizes.warmup_seconds
    two = await load_two_replicas(ctx, "gateway", spec)
    good2, bad2, per_endpoint2 = summarise(two.load)
    overall2 = Latency.of([s for v in two.load.latencies.values() for s in v])
    rps2 = good2 / two.load.measured_seconds
    return [
        Result(
            id="P3",
            title=f"Dashboard reads, {sizes.read_clients} clients, through the gateway",
            figure=round(rps),
            unit="req/s",
            target=f"p95 ≤ {TARGET_P95_MS:g} ms; ≥ {TARGET_RPS:g} req/s",
            met=bool(overall and overall.p95 <= TARGET_P95_MS and rps >= TARGET_RPS),
            latency=overall,
            baseline=round(floor.req_per_s),
            baseline_name="framework floor req/s (FastAPI + uvicorn alone, same clients)",
            ratio=round(rps / floor.req_per_s, 2) if floor.req_per_s else None,
            missing=bad,
            counts={
                "requests": good + bad,
                "ok": good,
                "failed": bad,
                "campaigns": len(ids),
                "samples_in_set": world.seed.get("samples"),
            },
            details={
                "per_endpoint": per_endpoint,
                "clients": sizes.read_clients,
                "measured_seconds": round(load.measured_seconds, 1),
                "load_generator_cpu_cores": round(load.cpu_seconds / elapsed, 2),
                "cpu_cores": used,
                "cpu_ms_per_request": per_unit_ms(spent, load.completed),
                "statuses": load.statuses,
                "framework_floor": floor.as_json(),
                # Little's law: closed-loop clients ÷ the p95 target (mean ≤ p95).
                "req_per_s_needed_for_p95_target": round(
                    sizes.read_clients / (TARGET_P95_MS / 1000)
                ),
                "errors": load.errors[:10],
            },
        ),
        Result(
            id="P3-2r",
            title="The same reads through two gateway replicas on the same machine",
            figure=round(rps2),
            unit="req/s",
            target=f"p95 ≤ {TARGET_P95_MS:g} ms; ≥ {TARGET_RPS:g} req/s",
            met=bool(overall2 and overall2.p95 <= TARGET_P95_MS and rps2 >= TARGET_RPS),
            latency=overall2,
            baseline=round(rps),
            baseline_name="req/s through one gateway (P3)",
            ratio=round(rps2 / rps, 2) if rps else None,
            missing=bad2,
            counts={"requests": good2 + bad2, "ok": good2, "failed": bad2},
            details={
                "per_endpoint": per_endpoint2,
                "cpu_cores": two.cpu_cores,
                "cpu_ms_per_request": two.cpu_ms_per_request,
                "statuses": two.load.statuses,
                "errors": two.load.errors[:10],
            },
        ),
    ]
