"""The bench's CPU meter (bench/cpu.py), against the real PostgreSQL server: what P1's "CPU per
1,000 samples" and P3/P5's "per request" figures are made of."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg

from bench.cpu import meter, postgres_pids
from bench.system import pid_cpu_seconds
from tests.support.servers import Servers


async def test_a_backend_opened_after_the_meter_started_is_counted(servers: Servers) -> None:
    """Pools open connections under load: a backend started after the meter counts from zero
    (taking the backends once at the start left them out, and P1 alone showed a third of
    PostgreSQL's CPU)."""
    cpu = await meter({}, servers.database_url)
    conn = await asyncpg.connect(servers.database_url)
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        await conn.fetchval("SELECT count(*) FROM generate_series(1, 4000000)")
        assert pid in postgres_pids(urlsplit(servers.database_url).path.lstrip("/"))
        spent_by_backend = pid_cpu_seconds(pid) or 0.0
        spent = cpu.spent()
    finally:
        await conn.close()
    assert spent_by_backend >= 0.05
    assert spent["postgres"] >= spent_by_backend


async def test_backends_of_other_databases_are_left_out(servers: Servers) -> None:
    conn = await asyncpg.connect(servers.database_url)
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        found = postgres_pids("another_database")
    finally:
        await conn.close()
    assert pid not in found
    # The server's own processes are the run's cost whichever database it is.
    assert any(postgres_pids("another_database"))
