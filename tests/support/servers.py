"""Real PostgreSQL and RabbitMQ for tests: the local servers (or PULSE_* URLs), else testcontainers;
the local Redis (or PULSE_REDIS_URL) under a key prefix of the run's own.

Each test run gets its own database and its own RabbitMQ vhost, so a running `make dev` on the
same machine is never disturbed and never steals messages.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg

from pulse_runtime.settings import with_database, with_vhost

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"


DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Servers:
    database_url: str  # administrator URL of this run's own database
    amqp_url: str  # this run's own vhost
    # The API rate limits' Redis, and this run's own key prefix in it (no run sees another's).
    redis_url: str = DEFAULT_REDIS
    redis_key_prefix: str = "pulse-test:"


def _docker_ok() -> bool:
    try:
        import docker  # type: ignore[import-not-found]

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


async def _can_connect(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@contextmanager
def _postgres() -> Iterator[str]:
    url = os.environ.get("PULSE_TEST_DATABASE_URL") or os.environ.get("PULSE_DATABASE_URL")
    if url or asyncio.run(_can_connect(DEFAULT_PG)) or not _docker_ok():
        yield url or DEFAULT_PG
        return
    from testcontainers.postgres import PostgresContainer  # type: ignore[import-not-found]

    with PostgresContainer("postgres:16-alpine", driver=None) as pg:
        yield pg.get_connection_url()


@contextmanager
def _rabbitmq() -> Iterator[str]:
    url = os.environ.get("PULSE_TEST_AMQP_URL") or os.environ.get("PULSE_AMQP_URL")
    if url or not _docker_ok():
        yield url or DEFAULT_AMQP
        return
    from testcontainers.rabbitmq import RabbitMqContainer  # type: ignore[import-not-found]

    with RabbitMqContainer("rabbitmq:3.13-management") as r:
        host, port = r.get_container_host_ip(), r.get_exposed_port(r.port)
        yield f"amqp://{r.username}:{r.password}@{host}:{port}/"


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _rabbitmqctl(*args: str) -> bool:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        return False
    done = subprocess.run([ctl, *args], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


@contextmanager
def isolated_servers() -> Iterator[Servers]:
    suffix = uuid.uuid4().hex[:10]
    with _postgres() as pg_url, _rabbitmq() as amqp_url:
        database = f"pulse_test_{suffix}"
        asyncio.run(_create_database(pg_url, database))
        vhost = f"pulse-test-{suffix}"
        own_vhost = urlsplit(amqp_url).hostname in ("127.0.0.1", "localhost") and _rabbitmqctl(
            "add_vhost", vhost
        )
        if own_vhost:
            user = urlsplit(amqp_url).username or "guest"
            _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
            amqp_url = with_vhost(amqp_url, vhost)
        try:
            yield Servers(
                database_url=with_database(pg_url, database),
                amqp_url=amqp_url,
                redis_url=os.environ.get("PULSE_TEST_REDIS_URL")
                or os.environ.get("PULSE_REDIS_URL")
                or DEFAULT_REDIS,
                redis_key_prefix=f"pulse-test-{suffix}:",
            )
        finally:
            asyncio.run(_drop_database(pg_url, database))
            if own_vhost:
                _rabbitmqctl("delete_vhost", vhost)
