"""What PostgreSQL's compression of large values costs, pglz against lz4 (bench/RESULTS.md,
session 17): an outbox row holding a `post.pulled` of 500 samples, and the gateway's save of the
largest numbers document of the bench template (when it is there), each written one statement
at a time on one connection into a scratch table, alternating the two methods.

    python -m bench.compression_cost [--dsn postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from pulse_contracts import make_event
from pulse_contracts.posts import PostPulled, Sample

from .infra import TEMPLATE as TEMPLATE_DB

ROWS = 300
METHODS = ("pglz", "lz4", "pglz", "lz4")


def pulled_body(samples: int = 500) -> bytes:
    """A post.pulled envelope as ingest writes it: samples of 2,000 posts in 10 campaigns."""
    rng = random.Random(1)
    campaigns = [uuid4() for _ in range(10)]
    posts = [(uuid4(), uuid4(), campaigns[i % 10]) for i in range(2000)]
    start = datetime(2026, 12, 7, tzinfo=UTC)
    batch = []
    for i in range(samples):
        post, booking, campaign = posts[rng.randrange(len(posts))]
        batch.append(
            Sample(
                post_id=post,
                booking_id=booking,
                campaign_id=campaign,
                platform="tiktok",
                observed_at=start + timedelta(seconds=i),
                source="http",
                views=rng.randrange(10**6),
                likes=rng.randrange(10**5),
                comments=rng.randrange(10**4),
                shares=rng.randrange(10**4),
                saves=rng.randrange(10**4),
            )
        )
    envelope = make_event(PostPulled(samples=batch), org_id=uuid4(), producer="ingest")
    return envelope.model_dump_json().encode()


async def numbers_envelope(dsn: str) -> str | None:
    """The template's largest numbers document in a kpi.updated envelope; None without it."""
    try:
        conn = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/" + TEMPLATE_DB)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        document = await conn.fetchval(
            "SELECT document::text FROM catalog.campaign_numbers"
            " ORDER BY length(document::text) DESC LIMIT 1"
        )
    finally:
        await conn.close()
    if document is None:
        return None
    return (
        f'{{"event_id":"{uuid4()}","event_type":"kpi.updated","org_id":"{uuid4()}",'
        f'"occurred_at":"2026-12-07T00:00:00Z","data":{document}}}'
    )


async def outbox_rows(conn: asyncpg.Connection, method: str, body: bytes) -> tuple[float, float]:
    """(ms per insert, ms per row read back) of ROWS outbox rows holding `body`."""
    await conn.execute(
        "DROP TABLE IF EXISTS bench_compression_outbox;"
        " CREATE TABLE bench_compression_outbox"
        f" (id bigserial PRIMARY KEY, body bytea COMPRESSION {method} NOT NULL)"
    )
    started = time.perf_counter()
    for _ in range(ROWS):
        await conn.fetchval(
            "INSERT INTO bench_compression_outbox (body) VALUES ($1) RETURNING id", body
        )
    written = time.perf_counter()
    await conn.fetch("SELECT id, body FROM bench_compression_outbox ORDER BY id")
    read = time.perf_counter()
    return (written - started) / ROWS * 1000, (read - written) / ROWS * 1000


async def numbers_saves(conn: asyncpg.Connection, method: str, envelope: str) -> float:
    """ms per save of `envelope` by the gateway's statement (numbers_save.sql's shape)."""
    await conn.execute(
        "DROP TABLE IF EXISTS bench_compression_numbers;"
        " CREATE TABLE bench_compression_numbers (campaign_id uuid PRIMARY KEY,"
        f" as_of timestamptz NOT NULL, document json COMPRESSION {method} NOT NULL)"
    )
    campaign: UUID = uuid4()
    as_of = datetime.now(UTC)
    started = time.perf_counter()
    for _ in range(ROWS):
        as_of += timedelta(seconds=1)
        await conn.fetchval(
            "INSERT INTO bench_compression_numbers AS n (campaign_id, as_of, document)"
            " VALUES ($1, $2, ($3::text::json) -> 'data') ON CONFLICT (campaign_id) DO UPDATE"
            " SET as_of = excluded.as_of, document = excluded.document"
            " WHERE n.as_of < excluded.as_of RETURNING as_of",
            campaign,
            as_of,
            envelope,
        )
    return (time.perf_counter() - started) / ROWS * 1000


async def main(dsn: str) -> None:
    body = pulled_body()
    envelope = await numbers_envelope(dsn)
    print(f"post.pulled of 500 samples: {len(body):,} bytes")
    if envelope is None:
        print(f"no {TEMPLATE_DB}: the numbers document is left out (python -m bench --only P7)")
    else:
        print(f"largest numbers document in a kpi.updated envelope: {len(envelope):,} bytes")
    conn = await asyncpg.connect(dsn)
    try:
        for method in METHODS:
            insert, read = await outbox_rows(conn, method, body)
            line = f"{method:5s} outbox insert {insert:.2f} ms, read back {read:.3f} ms a row"
            if envelope is not None:
                line += f"; numbers save {await numbers_saves(conn, method, envelope):.2f} ms"
            print(line)
    finally:
        await conn.execute(
            "DROP TABLE IF EXISTS bench_compression_outbox;"
            " DROP TABLE IF EXISTS bench_compression_numbers"
        )
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(main(parser.parse_args().dsn))
