"""A churned table is vacuumed by its service once it holds enough dead rows, so a take from
it reads the live rows, not every row it ever held."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from pulse_runtime.db import create_pool
from pulse_runtime.migrations import apply_migrations, ensure_role_and_schema
from pulse_runtime.settings import with_user
from pulse_runtime.vacuum import vacuum_churned
from tests.support.servers import Servers

pytestmark = pytest.mark.integration
SCHEMA = "vacuumtest"
CHURNED = 30_000


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    await ensure_role_and_schema(servers.database_url, role="pulse_vacuumtest", schema=SCHEMA)
    dsn = with_user(servers.database_url, "pulse_vacuumtest")
    await apply_migrations(dsn, schema=SCHEMA, directory=Path(__file__).parent / "no_migrations")
    created = await create_pool(dsn)
    yield created
    await created.close()


async def _queue(conn: asyncpg.Connection, name: str, rows: int) -> None:
    """A queue table as the aggregator's pending closes: rows in, then taken by campaign."""
    await conn.execute(
        f"""DROP TABLE IF EXISTS {SCHEMA}.{name};
        CREATE TABLE {SCHEMA}.{name} (id bigserial PRIMARY KEY, campaign int NOT NULL, v int);
        CREATE INDEX ON {SCHEMA}.{name} (campaign)"""
    )
    await conn.execute(
        f"INSERT INTO {SCHEMA}.{name} (campaign, v) SELECT 1, g FROM generate_series(1, $1) g",
        rows,
    )
    await conn.execute(f"DELETE FROM {SCHEMA}.{name} WHERE campaign = 1")
    await conn.execute("SELECT pg_stat_force_next_flush()")


async def _dead_rows(conn: asyncpg.Connection, name: str) -> int:
    dead = await conn.fetchval(
        "SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2",
        SCHEMA,
        name,
    )
    return int(dead or 0)


async def _pages_a_take_reads(conn: asyncpg.Connection, name: str) -> int:
    """The pages a take of campaign 1 reads; rolled back, so the take is measured, not made."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        plan = await conn.fetchval(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"
            f" DELETE FROM {SCHEMA}.{name} WHERE campaign = 1 RETURNING v"
        )
    finally:
        await transaction.rollback()
    # The pool decodes json values itself; a bare connection would hand over the text.
    top = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    return int(top["Shared Hit Blocks"] + top["Shared Read Blocks"])


async def test_a_churned_table_is_vacuumed_and_a_take_reads_only_its_live_rows(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        await _queue(conn, "queue", CHURNED)
        await _queue(conn, "quiet", 100)  # churned too little to be worth a vacuum
        for _ in range(100):
            if await _dead_rows(conn, "queue") >= CHURNED:
                break
            await asyncio.sleep(0.1)
        await conn.execute(f"INSERT INTO {SCHEMA}.queue (campaign, v) VALUES (1, 7)")
        before = await _pages_a_take_reads(conn, "queue")

    assert await vacuum_churned(pool, SCHEMA, ["queue", "quiet"], min_dead=20_000) == ["queue"]

    async with pool.acquire() as conn:
        after = await _pages_a_take_reads(conn, "queue")
        assert await _dead_rows(conn, "queue") < 10
        assert await _dead_rows(conn, "quiet") == 100
    # Every dead row of the campaign was read on the way to the live one; now only that one.
    assert before > 50, before
    assert after < 10, after
    # Nothing vacuumed when nothing churned since.
    assert await vacuum_churned(pool, SCHEMA, ["queue", "quiet"], min_dead=20_000) == []


async def test_only_plain_names_reach_the_vacuum_statement(pool: asyncpg.Pool) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        await vacuum_churned(pool, SCHEMA, ["queue; DROP TABLE x"])
