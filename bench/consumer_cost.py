"""The CPU each consumer of kpi.updated spends on one large campaign's document, alone.

    python -m bench.consumer_cost [--pg-url postgresql://postgres@127.0.0.1/postgres]
                                  [--rounds 100]

The kpi.updated of a 200-post campaign (bench.recompute_cost's) is delivered `rounds` times,
each time a newer document, to each service's own subscriber code, without the broker: the
gateway's live relay (decode, into the read model) and its durable consumer (decode, into the
table), the alerter's (decode, keep, then the evaluation its loop runs), share's (decode, redact,
rebuild the projection). Figures per document: the consumer's Python CPU (`time.process_time`)
and its PostgreSQL backend's (each consumer has a pool of one connection), so a busy machine
moves them less than P2's in-situ meter. The database is a scratch one, migrated by
`pulse migrate` and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from pulse_alerter import evaluation as alerter_evaluation
from pulse_alerter import handlers as alerter_handlers
from pulse_alerter import repository as alerter_repository
from pulse_alerter.messages import NARROW as ALERTER_NARROW
from pulse_contracts import make_event, utcnow
from pulse_contracts.numbers import CampaignNumbers
from pulse_gateway import read_model
from pulse_gateway.messages import NARROW as GATEWAY_NARROW
from pulse_runtime.db import create_pool
from pulse_runtime.messaging import parse_envelope
from pulse_runtime.settings import with_user
from pulse_share import handlers as share_handlers
from pulse_share.messages import NARROW as SHARE_NARROW

from .api import cost_script_parser, scratch_database
from .recompute_cost import large_campaign
from .system import pid_cpu_seconds

DATABASE = "pulse_bench_consumer_cost"
KIND = "kpi.updated"

Deliver = Callable[[bytes], Awaitable[None]]


@dataclass
class Cost:
    consumer: str
    python_ms: float
    postgres_ms: float


async def backend_pid(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        pid: int = await conn.fetchval("SELECT pg_backend_pid()")
    return pid


async def timed(pool: asyncpg.Pool, bodies: list[bytes], steps: dict[str, Deliver]) -> list[Cost]:
    """Each body through every step in turn (the first body warms the code up; the others
    are timed), each step's CPU apart; the steps share `pool`, whose backend's CPU is the
    last step's (the only one of them that writes)."""
    pid = await backend_pid(pool)
    for deliver in steps.values():
        await deliver(bodies[0])
    python = dict.fromkeys(steps, 0.0)
    postgres = pid_cpu_seconds(pid) or 0.0
    for body in bodies[1:]:
        for name, deliver in steps.items():
            started = time.process_time()
            await deliver(body)
            python[name] += time.process_time() - started
    postgres = (pid_cpu_seconds(pid) or 0.0) - postgres
    n = len(bodies) - 1
    last = list(steps)[-1]
    return [
        Cost(name, 1000 * python[name] / n, 1000 * postgres / n if name == last else 0.0)
        for name in steps
    ]


def bodies_of(rounds: int) -> list[bytes]:
    """`rounds` kpi.updated of one campaign, each computed a second after the one before."""
    org_id, build = large_campaign(20, 10)
    doc = build()
    bodies = []
    for i in range(rounds + 1):
        newer = doc.model_copy(update={"as_of": doc.as_of + timedelta(seconds=i)})
        event = make_event(newer, org_id=org_id, producer="aggregator", correlation_id="bench")
        bodies.append(event.model_dump_json().encode())
    return bodies


async def measure(pg_url: str, rounds: int) -> list[Cost]:
    bodies = bodies_of(rounds)
    async with scratch_database(pg_url, DATABASE) as database_url:
        pools = {
            name: await create_pool(with_user(database_url, f"pulse_{name}"), max_size=1)
            for name in ("gateway", "alerter", "share")
        }
        try:
            return await _each_consumer(pools, bodies)
        finally:
            for pool in pools.values():
                await pool.close()


async def _each_consumer(pools: dict[str, asyncpg.Pool], bodies: list[bytes]) -> list[Cost]:
    held = read_model.NumbersReadModel()

    async def live(body: bytes) -> None:  # gateway.stream's relay, before its SSE push
        envelope = parse_envelope(body, KIND)
        assert isinstance(envelope.data, CampaignNumbers)
        held.offer(envelope.org_id, envelope.data)

    async def durable(body: bytes) -> None:
        envelope = parse_envelope(body, KIND, GATEWAY_NARROW)
        await read_model.on_kpi_updated(pools["gateway"], held, envelope, body)

    decoded = alerter_repository.HeldNumbers()  # as the alerter's consumer keeps them

    async def alerter(body: bytes) -> None:
        envelope = parse_envelope(body, KIND, ALERTER_NARROW)
        await alerter_handlers.note_kpi_updated(pools["alerter"], envelope, decoded)
        await alerter_evaluation.evaluate_marked(pools["alerter"], now=utcnow, held=decoded)

    async def share(body: bytes) -> None:
        envelope = parse_envelope(body, KIND, SHARE_NARROW)
        await share_handlers.on_kpi_updated(pools["share"], envelope, utcnow())

    # The live relay first, as it usually is: the durable consumer then finds it held.
    gateway: dict[str, Deliver] = {
        "gateway: live relay": live,
        "gateway: durable consumer": durable,
    }
    costs = await timed(pools["gateway"], bodies, gateway)
    costs += await timed(pools["alerter"], bodies, {"alerter: note + evaluation": alerter})
    costs += await timed(pools["share"], bodies, {"share: redaction + projection": share})
    return costs


def main() -> None:
    parser = cost_script_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    started = time.monotonic()
    costs = asyncio.run(measure(args.pg_url, args.rounds))
    print(f"kpi.updated of a 200-post campaign, {args.rounds} documents")
    for cost in costs:
        print(
            f"{cost.consumer:32} python {cost.python_ms:6.2f} ms, "
            f"postgres {cost.postgres_ms:6.2f} ms a document"
        )
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
