"""Fixtures for every suite: one database and one vhost per run, migrated for all services."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from playwright.async_api import Browser

from tests.support.browser import chromium
from tests.support.servers import Servers, isolated_servers
from tests.support.services import SERVICES, migrate_all, settings_for


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with isolated_servers() as found:
        asyncio.run(migrate_all(found))
        yield found


@pytest.fixture(scope="session")
def service_env(servers: Servers) -> dict[str, str]:
    """Environment for services started as processes against this run's servers."""
    return {
        **os.environ,
        "PULSE_ENV": "test",
        "PULSE_DATABASE_URL": servers.database_url,
        "PULSE_AMQP_URL": servers.amqp_url,
        "PULSE_LOG_LEVEL": "WARNING",
        # Every test gateway sees its clients as 127.0.0.1, so the per-address sign-in budgets
        # would be one budget for the whole run: a module's deliberate failures would refuse
        # another module's sign-ins. The tests of those limits set the real ones back
        # (services/gateway/tests/test_credentials.py).
        "PULSE_GATEWAY_LOGIN_FAILURES_PER_ADDRESS": "100000",
        "PULSE_GATEWAY_EMAIL_LINKS_PER_ADDRESS": "100000",
        # The API rate limits count in this run's own keys, and are lifted like the sign-in
        # budgets: a module's many requests as one person must not refuse its later tests. The
        # tests of the limits set the real ones back (services/gateway/tests/test_rate_limits.py).
        "PULSE_REDIS_URL": servers.redis_url,
        "PULSE_REDIS_KEY_PREFIX": servers.redis_key_prefix,
        # Test machines run several suites at once: a stalled event loop must not be taken for
        # an unreachable Redis (which lets the request pass uncounted).
        "PULSE_REDIS_TIMEOUT_S": "3",
        "PULSE_GATEWAY_API_REQUESTS_PER_MINUTE": "1000000",
        "PULSE_INGEST_TOKEN_REQUESTS_PER_MINUTE": "1000000",
    }


@pytest.fixture
async def admin_db(servers: Servers) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(servers.database_url)
    try:
        yield conn
    finally:
        await conn.close()


__all__ = ["SERVICES", "settings_for"]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless system Chromium for the run's browser tests."""
    async with chromium() as found:
        yield found
