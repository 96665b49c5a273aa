"""What a pooled connection carries back to the pool: a pool without the session reset (a
service with no session state) still hands out connections without the last borrower's
transaction, settings or cancelled work; a service with session locks gets them released."""

from __future__ import annotations

import pytest

from pulse_runtime.db import create_pool
from tests.support.servers import Servers

pytestmark = pytest.mark.integration


async def test_a_connection_comes_back_without_the_last_borrowers_transaction_or_settings(
    servers: Servers,
) -> None:
    pool = await create_pool(servers.database_url, min_size=1, max_size=1, session_locks=False)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT set_config('pulse.org_id', 'org-a', true)")
        async with pool.acquire() as conn:
            conn_tx = conn.transaction()
            await conn_tx.start()  # left open by a borrower that failed half-way
            await conn.execute("SELECT set_config('pulse.org_id', 'org-b', true)")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT current_setting('pulse.org_id', true)") in ("", None)
    finally:
        await pool.close()


async def test_a_session_lock_left_behind_goes_with_the_release_where_the_service_takes_them(
    servers: Servers,
) -> None:
    pool = await create_pool(servers.database_url, min_size=1, max_size=1, session_locks=True)
    other = await create_pool(servers.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_try_advisory_lock(4242)")  # never unlocked
        async with other.acquire() as conn:
            assert await conn.fetchval("SELECT pg_try_advisory_lock(4242)")
            await conn.execute("SELECT pg_advisory_unlock(4242)")
    finally:
        await pool.close()
        await other.close()
