"""What PostgreSQL spends storing and reading back one large number document, by column type.

    python -m bench.document_cost [--pg-url postgresql://postgres@127.0.0.1/postgres]

The kpi.updated of a 200-post campaign (bench.recompute_cost's) is upserted 300 times into a
scratch unlogged table and read back as text 300 times, as `jsonb` and as `json`, plain and
through the aggregator's `-> 'data'`. The figure is the backend's own CPU (user + system from
its `/proc` stat), not wall time, so a busy machine moves it less. Every service that keeps the
document (aggregator, alerter, gateway, share) writes it once per kpi.updated.
"""

from __future__ import annotations

import argparse
import asyncio

import asyncpg

from pulse_contracts import make_event

from .recompute_cost import large_campaign
from .system import pid_cpu_seconds

ROUNDS = 300
SHAPES = (
    ("jsonb", "$2::text::jsonb"),
    ("json", "$2::text::json"),
    ("jsonb", "($2::text::jsonb) -> 'data'"),
    ("json", "($2::text::json) -> 'data'"),
)


def backend_cpu_seconds(pid: int) -> float:
    seconds = pid_cpu_seconds(pid)
    if seconds is None:
        raise RuntimeError(f"cannot read the CPU of backend {pid}: is PostgreSQL on this host?")
    return seconds


async def measure(pg_url: str) -> None:
    org_id, build = large_campaign(20, 10)
    body = make_event(build(), org_id=org_id, producer="aggregator", correlation_id="x")
    text = body.model_dump_json()
    print(f"kpi.updated of a 200-post campaign: {len(text) / 1024:.0f} KB")
    conn = await asyncpg.connect(pg_url)
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        for column, value in SHAPES:
            await conn.execute(
                "DROP TABLE IF EXISTS bench_document_cost; "
                f"CREATE UNLOGGED TABLE bench_document_cost (id int PRIMARY KEY, doc {column})"
            )
            upsert = (
                f"INSERT INTO bench_document_cost VALUES ($1, {value}) "
                "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc"
            )
            started = backend_cpu_seconds(pid)
            for i in range(ROUNDS):
                await conn.execute(upsert, i % 10, text)
            written = backend_cpu_seconds(pid)
            for i in range(ROUNDS):
                await conn.fetchval(
                    "SELECT doc::text FROM bench_document_cost WHERE id = $1", i % 10
                )
            read = backend_cpu_seconds(pid)
            print(
                f"{column:5} {value:29} write {1000 * (written - started) / ROUNDS:.2f} ms, "
                f"read {1000 * (read - written) / ROUNDS:.2f} ms of backend CPU a document"
            )
        await conn.execute("DROP TABLE bench_document_cost")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    asyncio.run(measure(parser.parse_args().pg_url))


if __name__ == "__main__":
    main()
