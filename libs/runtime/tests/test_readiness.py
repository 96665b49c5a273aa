"""Readiness while every pooled connection is busy: a restarted service working through a backlog
is ready, and a database that is really gone is reported."""

from __future__ import annotations

import asyncio

import pytest

from pulse_runtime.db import create_pool
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.settings import with_database
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration


async def test_the_database_check_does_not_wait_for_a_busy_pool(servers: Servers) -> None:
    runtime = ServiceRuntime(settings_for("aggregator", servers), queues=[])
    runtime._pool = await create_pool(runtime.settings.dsn, min_size=1, max_size=1)
    try:
        async with runtime.pool.acquire():  # the backlog holds the only connection
            await asyncio.wait_for(runtime.check_database(), timeout=5)
            await asyncio.wait_for(runtime.check_database(), timeout=5)  # and again, reused
    finally:
        await runtime.stop()


async def test_the_database_check_fails_when_the_database_is_gone(servers: Servers) -> None:
    gone = settings_for(
        "aggregator",
        servers,
        service_database_url=with_database(servers.database_url, "pulse_no_such_database"),
    )
    runtime = ServiceRuntime(gone, queues=[])
    with pytest.raises(Exception, match="pulse_no_such_database"):
        await asyncio.wait_for(runtime.check_database(), timeout=10)
    await runtime.stop()
