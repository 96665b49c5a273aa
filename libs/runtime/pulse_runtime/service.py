"""What every service's composition root shares: resources owned by a lifespan, supervised
background loops, and the `serve` / `migrate` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import asyncpg
import uvicorn
from fastapi import FastAPI
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI

from . import tracing
from .db import create_pool
from .http import Metrics, create_http_app
from .logging import configure_logging, get_logger
from .messaging import create_broker
from .migrations import migrate_service
from .outbox import OutboxRelay, outbox_lag
from .settings import ServiceSettings
from .topology import QueueSpec, declare_dead_letters, declare_topology

# Young-generation size and how often older generations follow (Python's default: 700, 10, 10).
GC_THRESHOLDS: Final = (50_000, 20, 10)

log = get_logger(__name__)

Loop = Callable[["ServiceRuntime"], Awaitable[None]]
Settings = TypeVar("Settings", bound=ServiceSettings)
# How often /metrics' outbox gauges are refreshed: a scrape every 15 s sees values this fresh.
OUTBOX_GAUGE_INTERVAL_S = 5.0


@dataclass
class ServiceRuntime:
    """Owns a service's pool, broker, outbox relay and loops for the lifetime of the app."""

    settings: ServiceSettings
    queues: list[QueueSpec]
    broker: RabbitBroker = field(init=False)
    metrics: Metrics = field(init=False)
    _pool: asyncpg.Pool | None = field(default=None, init=False)
    relay: OutboxRelay | None = field(default=None, init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    _probe: asyncpg.Connection | None = field(default=None, init=False)
    _probe_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def __post_init__(self) -> None:
        # Before the broker and the app are made: they are instrumented when tracing is on.
        tracing.setup(self.settings.service)
        self.broker = create_broker(self.settings.amqp_url, prefetch=self.settings.prefetch)
        self.metrics = Metrics(self.settings.service)

    @property
    def pool(self) -> asyncpg.Pool:
        return self.get_pool()

    def get_pool(self) -> asyncpg.Pool:
        """The pool, as the PoolGetter handed to routes built before the lifespan starts."""
        if self._pool is None:
            raise RuntimeError("the service has not started: no database pool yet")
        return self._pool

    @property
    def schema(self) -> str:
        return self.settings.db_schema

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def start(self, loops: list[tuple[str, Loop]]) -> None:
        s = self.settings
        self._pool = await create_pool(
            s.dsn,
            min_size=s.pool_min_size,
            max_size=s.pool_max_size,
            session_locks=s.session_locks,
        )
        await self.broker.connect()
        # DLQs first, so a subscriber never consumes from a queue that cannot dead-letter yet;
        # the queues themselves after the subscribers, so each is consumed on the channel (and
        # with the prefetch) its subscriber asked for (topology.declare_dead_letters says why).
        await declare_dead_letters(self.broker, self.queues)
        await self.broker.start()
        await declare_topology(self.broker, self.queues)
        self.relay = OutboxRelay(self._pool, self.broker, s.db_schema, dsn=s.dsn)
        relay = self.relay
        self.spawn("outbox-relay", lambda _: relay.run())
        self.spawn("outbox-gauges", lambda _: self._watch_outbox())
        for name, loop in loops:
            self.spawn(name, loop)
        log.info("service started", port=s.port)

    def spawn(self, name: str, loop: Loop) -> None:
        self._tasks.append(asyncio.create_task(self._supervise(name, loop), name=name))

    async def _supervise(self, name: str, loop: Loop) -> None:
        """A loop that crashes is logged and restarted with backoff, never silently lost."""
        failures = 0
        while True:
            try:
                await loop(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                delay = min(10.0, 0.1 * 2**failures) * random.uniform(0.5, 1.0)
                log.exception("background loop crashed; restarting", loop=name, retry_in_s=delay)
                await asyncio.sleep(delay)

    async def _watch_outbox(self) -> None:
        """Keeps pulse_outbox_pending / _oldest_seconds current (alert PulseOutboxLag)."""
        while True:
            pending, oldest = await outbox_lag(self.pool, self.schema)
            self.metrics.outbox_pending.set(pending)
            self.metrics.outbox_oldest.set(oldest)
            await asyncio.sleep(OUTBOX_GAUGE_INTERVAL_S)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.broker.stop()
        if self._probe is not None:
            await self._probe.close()
            self._probe = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        tracing.shutdown()

    async def check_database(self) -> None:
        """SELECT 1 on a connection of its own, outside the pool: after a restart under load a
        backlog of messages holds every pooled connection, and readiness waiting in line behind
        them made a healthy service look down for tens of seconds."""
        async with self._probe_lock:
            try:
                if self._probe is None or self._probe.is_closed():
                    self._probe = await asyncpg.connect(self.settings.dsn, timeout=2)
                await self._probe.fetchval("SELECT 1", timeout=2)
            except BaseException:
                if self._probe is not None:
                    self._probe.terminate()
                    self._probe = None
                raise

    async def check_broker(self) -> None:
        if not await self.broker.ping(timeout=1.0):
            raise ConnectionError("broker not connected")

    def asyncapi(self) -> dict[str, Any]:
        spec = AsyncAPI(self.broker, title=f"pulse-{self.settings.service}", version="1.0.0")
        document: dict[str, Any] = spec.to_specification().to_jsonable()
        return document

    def http_app(
        self,
        title: str,
        loops: list[tuple[str, Loop]],
        resources: Callable[[], contextlib.AbstractAsyncContextManager[None]] | None = None,
    ) -> FastAPI:
        """The service's app; `resources` are the service's own (HTTP clients…), opened after
        the runtime starts and closed before it stops."""

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start(loops)
            quiet_collector()
            try:
                if resources is None:
                    yield
                else:
                    async with resources():
                        yield
            finally:
                await self.stop()

        return create_http_app(
            title=title,
            metrics=self.metrics,
            ready_checks=[self.check_database, self.check_broker],
            asyncapi=self.asyncapi,
            lifespan=lifespan,
        )


def quiet_collector() -> None:
    """Keep the cyclic garbage collector off the hot path, once start-up is done.

    Every message and request allocates thousands of short-lived objects (a post.pulled's
    samples, a kpi.updated document's models, asyncpg records), so with the default thresholds
    the collector ran a full collection every second or two under load, each one walking every
    object the service ever imported. Measured under P1 (the collector's own thread CPU, gc
    callbacks): 26-28 % of the aggregator's, the alerter's, share's and the gateway's CPU, and a
    quarter of ingest's before ingest did this. Freezing moves what start-up built (modules,
    models, routes) out of the collector's view for good, and a larger young generation lets a
    message's garbage die by reference counting before it is ever scanned. Cycles are still
    collected, just not a hundred times a second: a full pass still follows every ten middle
    ones (ingest once had a hundred), because a cycle nobody knows of holding message bodies
    would otherwise pile up. One did: 400-660 MB per service in a full bench run, until
    messaging.taken broke it."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def migrate(settings: ServiceSettings, migrations_dir: Path) -> list[str]:
    password = settings.database_password.get_secret_value() if settings.database_password else None
    return await migrate_service(
        admin_dsn=settings.database_url,
        dsn=settings.dsn,
        role=settings.role,
        schema=settings.db_schema,
        directory=migrations_dir,
        password=password,
    )


def service_main(
    settings_cls: type[Settings],
    create_app: Callable[[Settings], FastAPI],
    migrations_dir: Path,
    argv: list[str] | None = None,
) -> None:
    """`pulse-<service> [serve|migrate]`: serve runs the app, migrate applies its schema."""
    parser = argparse.ArgumentParser(prog=f"pulse-{settings_cls.service}")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    settings = settings_cls.load()
    configure_logging(settings.service, settings.log_level)
    if args.command == "migrate":
        applied = asyncio.run(migrate(settings, migrations_dir))
        print(f"{settings.service}: {len(applied)} migration(s) applied")
        return
    proxies = settings.trusted_proxy_list()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # uvicorn believes X-Forwarded-For from loopback by default, so any local process (or a
        # proxy that passes the header through) could pick the client address that the login
        # and share-link limits count. Only the configured proxies are believed.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )
