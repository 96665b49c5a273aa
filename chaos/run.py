"""One chaos run: its own database and vhost (bench/infra.py), every service as a process
(bench/system.py), an agency built through the public API (bench/catalog.py), then load and
faults together, a settling time, and the checks of verify.py."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from bench import infra
from bench.api import login, migrate, ok, staff_client
from bench.catalog import Agency, VideoIds, build_campaigns, new_agency
from bench.seed import wait_posts_known
from bench.system import System
from bench.world import wait_queues_idle

from .faults import Chaos, Fault, Freshness
from .load import AmqpSender, Ledger, Pace, Samples, deliver_http, http_sender
from .plan import Plan
from .verify import (
    AlertWitness,
    accounting,
    dead_letter_depths,
    dead_letters,
    numbers_match,
    stored_counts,
)


async def run(
    plan: Plan,
    *,
    cluster_url: str,
    amqp_url: str,
    log_dir: Path,
    seed: int,
    use_database: str | None = None,
    use_amqp: str | None = None,
) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    database = f"pulse_bench_chaos_{suffix}"
    database_url = use_database or infra.with_database(cluster_url, database)
    if use_database:
        database = urlsplit(use_database).path.lstrip("/")
    vhost = infra.vhost_of(use_amqp) if use_amqp else f"pulse-bench-chaos-{suffix}"
    if use_database is None:
        await infra.create_database(cluster_url, database)
    run_amqp = use_amqp or infra.create_vhost(amqp_url, vhost)
    system = System(database_url=database_url, amqp_url=run_amqp, log_dir=log_dir)
    try:
        return await _run(plan, system, cluster_url, database, vhost, random.Random(seed))
    finally:
        system.stop()
        if use_amqp is None:
            infra.delete_vhost(vhost)
        if use_database is None:
            await infra.drop_database(cluster_url, database)


async def _run(
    plan: Plan, system: System, cluster_url: str, database: str, vhost: str, rng: random.Random
) -> dict[str, Any]:
    await asyncio.to_thread(migrate, system.base_env())
    _, agency = await asyncio.gather(
        system.start(), new_agency(system.cli_env(), "Chaos", test=True)
    )
    # Before the catalog: the campaigns' first under_kpi alerts come with it, and a raise that
    # repeats one of those during the faults must be seen as a second raise.
    witness = AlertWitness(system.amqp_url)
    await witness.start()
    try:
        return await _catalog_then_chaos(
            plan, system, cluster_url, database, vhost, rng, agency, witness
        )
    finally:
        await witness.close()


async def _catalog_then_chaos(
    plan: Plan,
    system: System,
    cluster_url: str,
    database: str,
    vhost: str,
    rng: random.Random,
    agency: Agency,
    witness: AlertWitness,
) -> dict[str, Any]:
    gateway = system.url("gateway")
    # Two thirds through their timeline, so under_kpi's 50 % milestone is due: alerts are
    # raised, and must be raised once per debounce key despite the faults.
    today = date.today()
    start, end = today - timedelta(days=40), today + timedelta(days=20)
    ids = VideoIds(rng)
    loaded = await build_campaigns(
        agency,
        gateway,
        campaigns=plan.campaigns,
        bookings=plan.bookings,
        posts_per_booking=plan.posts_per_booking,
        start=start,
        end=end,
        ids=ids,
        concurrency=4,
        name="Chaos",
    )
    (probe,) = await build_campaigns(
        agency,
        gateway,
        campaigns=1,
        bookings=1,
        posts_per_booking=1,
        start=start,
        end=end,
        ids=ids,
        concurrency=1,
        name="Probe",
    )
    async with staff_client(gateway) as api:
        await login(api, agency.email)
        made = await ok(api.post("/api/tokens", json={"name": "chaos", "scopes": ["ingest"]}))
    token: str = made["token"]
    # The run's own connections are opened only around the load: a database fault would cut
    # one held across it (pg_terminate_backend, or a restart).
    admin = await asyncpg.connect(system.database_url)
    try:
        await wait_posts_known(admin, agency, timeout=120)
    finally:
        await admin.close()
    dead_before = await dead_letter_depths(vhost)
    ledger = Ledger()
    posts = [p.id for c in loaded for p in c.posts]
    samples = Samples(posts, rng, duplicates=plan.duplicate_share, late=plan.late_share)
    freshness = Freshness(system, token, agency.email, probe.id, probe.posts[0].id)
    chaos = Chaos(
        system,
        plan,
        freshness,
        ledger,
        vhost,
        database,
        infra.with_database(cluster_url, "postgres"),
        rng,
    )
    load_s = await _load_under_faults(plan, system, chaos, samples, ledger, token)
    settle_started = time.monotonic()
    accounts, numbers = await _settle_and_check(
        plan, system, vhost, agency.org_id, agency.email, ledger
    )
    settle_s = time.monotonic() - settle_started
    alerts = witness.raised_twice()
    dlq = await dead_letters(system.amqp_url, vhost, dead_before)
    return _report(plan, chaos.faults, accounts, numbers, alerts, dlq, load_s, settle_s)


async def _settle_and_check(
    plan: Plan, system: System, vhost: str, org_id: str, email: str, ledger: Ledger
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Once every queue is drained: the stored samples against the ledger, and the numbers
    against the oracle (retried while the last consumers catch up)."""
    try:
        await wait_queues_idle(vhost, timeout=plan.settle_timeout_s)
    except TimeoutError as exc:
        print(f"chaos: {exc}", flush=True)
    admin = await asyncpg.connect(system.database_url)
    aggregator = httpx.AsyncClient(
        base_url=system.url("aggregator"),
        headers={"X-Pulse-Service-Token": system.service_token},
        timeout=10,
    )
    try:
        accounts = accounting(ledger, await stored_counts(admin, org_id))
        accounts["alerts_in_database"] = await admin.fetchval(
            "SELECT count(*) FROM alerter.alerts WHERE org_id = $1", uuid.UUID(org_id)
        )
        async with aggregator, staff_client(system.url("gateway")) as api:
            await login(api, email)
            numbers = await numbers_match(
                admin, aggregator, api, org_id, accounts["stored"], plan.settle_timeout_s
            )
    finally:
        await admin.close()
    return accounts, numbers


async def _load_under_faults(
    plan: Plan,
    system: System,
    chaos: Chaos,
    samples: Samples,
    ledger: Ledger,
    token: str,
) -> float:
    """Load over both paths while the killers and the server faults run; then the samples held
    back are sent last (the latest of all late samples)."""
    started = time.monotonic()
    stop, stop_watch = asyncio.Event(), asyncio.Event()
    ingest = system.url("ingest")
    amqp = AmqpSender(system.amqp_url, token, ledger)
    pace = Pace(plan.samples_per_s)
    senders = [
        asyncio.create_task(
            http_sender(ingest, token, samples, ledger, stop, plan.http_batch, pace)
        )
        for _ in range(plan.http_senders)
    ] + [
        asyncio.create_task(amqp.run(samples, stop, plan.amqp_batch, pace))
        for _ in range(plan.amqp_in_flight)
    ]
    watchdog = asyncio.create_task(chaos.watchdog(stop_watch))
    expected_s = plan.kills_per_service * (sum(plan.kill_gap_s) / 2 + 5)
    try:
        await asyncio.gather(
            *(chaos.killer(name) for name in plan.services), chaos.server_faults(expected_s)
        )
        await asyncio.sleep(3)
    finally:
        stop.set()
        await asyncio.gather(*senders, return_exceptions=True)
    late = samples.held_back()
    async with httpx.AsyncClient(base_url=ingest, timeout=30) as client:
        for at in range(0, len(late), plan.http_batch):
            await deliver_http(client, token, late[at : at + plan.http_batch], ledger)
    await chaos.finish()
    stop_watch.set()
    await watchdog
    await amqp.close()
    return time.monotonic() - started


def _spread(values: list[float | None]) -> dict[str, Any]:
    known = [v for v in values if v is not None]
    return {
        "n": len(values),
        "missing": len(values) - len(known),
        "p50": round(statistics.median(known), 2) if known else None,
        "max": round(max(known), 2) if known else None,
    }


def _report(
    plan: Plan,
    faults: list[Fault],
    accounts: dict[str, Any],
    numbers: dict[str, Any],
    alerts: dict[str, Any],
    dlq: dict[str, Any],
    load_s: float,
    settle_s: float,
) -> dict[str, Any]:
    kinds = sorted({f.kind for f in faults})
    by_kind = {
        kind: {
            "back_s": _spread([f.back_s for f in faults if f.kind == kind]),
            "fresh_s": _spread([f.fresh_s for f in faults if f.kind == kind]),
        }
        for kind in kinds
    }
    problems = []
    for key in ("lost", "doubled", "stored_never_sent", "rejected", "abandoned"):
        if accounts[key]:
            problems.append(f"{key}: {accounts[key]}")
    if numbers["mismatched"]:
        problems.append(f"numbers differ from the oracle: {numbers['mismatched']}")
    if alerts["raised_twice"]:
        problems.append(f"alerts raised twice: {alerts['raised_twice']}")
    if dlq["dead_letters"]:
        problems.append(f"dead letters: {dlq['examples']}")
    if any(f.fresh_s is None for f in faults):
        problems.append("a fault after which the numbers never became fresh again")
    return {
        "plan": plan.as_json(),
        "ok": not problems,
        "problems": problems,
        "load_seconds": round(load_s, 1),
        "settle_seconds": round(settle_s, 1),
        "samples": accounts,
        "faults": {
            "count": len(faults),
            "fresh_s": _spread([f.fresh_s for f in faults]),
            "by_kind": by_kind,
            "each": [f.as_json() for f in faults],
        },
        "numbers": numbers,
        "alerts": alerts,
        "dead_letters": dlq,
    }
