"""Composition root of ingest: runtime (pool, broker, relay), consumers, routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Final

from fastapi import FastAPI

from pulse_runtime.logging import get_logger
from pulse_runtime.rate_limit import RateLimiter, RateLimitHeaders, redis_client
from pulse_runtime.service import Loop, ServiceRuntime, service_main
from pulse_runtime.topology import QUEUES

from . import repository, runs, sample_months
from .api import ingest_router, internal_reads, pulling_routes, test_routes
from .benchmarks import BenchmarkPuller, benchmark_reads
from .consumer import FETCH_QUEUE_NAMES, QUEUE_NAMES, register_consumers
from .metrics import IngestMetrics
from .priority import HIGH_QUEUE, LOW_QUEUE, PriorityGate, QueueDepth
from .pulling import Puller
from .rate_limits import TokenLimits
from .runs_api import runs_internal, runs_router
from .scheduler import Clock
from .settings import IngestSettings
from .tokens import TokenCache

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# How often the paused-organizations gauge is read from the database.
PAUSED_GAUGE_INTERVAL_S: Final = 15.0

log = get_logger(__name__)


def create_app(settings: IngestSettings) -> FastAPI:
    provider = settings.provider()
    queues = QUEUE_NAMES + (FETCH_QUEUE_NAMES if provider else ())
    runtime = ServiceRuntime(settings, queues=[QUEUES[name] for name in queues])
    clock = Clock(settings.clock_offset_s)

    pool = runtime.get_pool
    puller: Puller | None = None
    metrics = IngestMetrics(runtime.metrics.registry)
    loops: list[tuple[str, Loop]] = []
    depth = QueueDepth(settings.amqp_url, HIGH_QUEUE)
    low_depth = QueueDepth(settings.amqp_url, LOW_QUEUE)
    if provider is None:
        log.warning(
            "pulling from ScrapeCreators is disabled: set PULSE_INGEST_SCRAPECREATORS_API_KEY "
            "(or, in development, PULSE_INGEST_SCRAPECREATORS_BASE_URL of the fake server)"
        )
    else:
        gate = PriorityGate(depth, max_wait_s=settings.low_max_wait_s)
        puller = Puller(
            settings.pull_settings(provider),
            pool=pool,
            clock=clock,
            wake_relay=runtime.wake_relay,
            gate=gate,
            metrics=metrics,
        )
        # Shown on /metrics, so a benchmark reports the limits it ran with.
        for platform, limit in provider.concurrency.items():
            metrics.concurrency.labels(platform).set(limit)
        running = puller

        def breaker_state(platform: str) -> str | None:
            client = running.client
            return None if client is None else client.breaker_state(platform)  # type: ignore[arg-type]

        metrics.watch_breakers(breaker_state)

        async def watch_paused(_: ServiceRuntime) -> None:
            while True:
                async with runtime.pool.acquire() as conn:
                    metrics.paused_organizations.set(await repository.count_paused(conn))
                await asyncio.sleep(PAUSED_GAUGE_INTERVAL_S)

        loops.append(("paused-gauge", watch_paused))
        loops.append(("refresh-scheduler", puller.scheduler_loop))
        loops.append(("comments", puller.comments_loop))
        benchmark_puller = BenchmarkPuller(
            pool=pool,
            client=puller.provider_client,
            now=clock.now,
            wait_turn=gate.wait_turn,
            low_backlog=low_depth,
            poll_s=settings.benchmark_poll_s,
            due=puller.benchmarks_due,
        )
        loops.append(("benchmarks", benchmark_puller.loop))
        log.info("pulling from ScrapeCreators", base_url=provider.base_url)
    loops.append(
        (
            "run-timeouts",
            runs.timeout_loop(pool, clock.now, timedelta(seconds=settings.run_timeout_s)),
        )
    )
    loops.append(
        (
            "sample-months",
            sample_months.months_loop(
                clock.now,
                ahead=settings.sample_months_ahead,
                interval_s=settings.sample_months_interval_s,
            ),
        )
    )
    tokens = TokenCache(ttl_s=settings.token_cache_ttl_s)
    items = register_consumers(
        runtime, clock=clock, puller=puller, settings=settings, tokens=tokens, metrics=metrics
    )

    limits = TokenLimits(settings.token_requests_per_minute, pool, tokens)

    @contextlib.asynccontextmanager
    async def resources() -> AsyncIterator[None]:
        try:
            async with redis_client(
                settings.redis_url, timeout_s=settings.redis_timeout_s
            ) as redis:
                limits.limiter = RateLimiter(
                    redis, prefix=settings.redis_key_prefix, counter=runtime.metrics.rate_limited
                )
                if puller is None:
                    yield
                else:
                    async with puller.running():
                        yield
        finally:
            limits.limiter = None
            await items.close()
            await depth.close()
            await low_depth.close()

    app = runtime.http_app("Pulse ingest", loops=loops, resources=resources)
    token = settings.service_token.get_secret_value()
    sealing_key = settings.sealing_key()
    app.add_middleware(RateLimitHeaders)
    app.include_router(ingest_router(pool, sealing_key, tokens, metrics, limits))
    app.include_router(internal_reads(pool, token, metrics))
    app.include_router(benchmark_reads(pool, token))
    app.include_router(
        runs_router(pool, tokens=tokens, clock=clock, wake_relay=runtime.wake_relay, limits=limits)
    )
    app.include_router(
        runs_internal(
            pool,
            token,
            clock=clock,
            wake_relay=runtime.wake_relay,
            open_circuits=lambda: puller.client.open_circuits() if puller and puller.client else [],
        )
    )
    app.include_router(pulling_routes(pool, token, puller=puller, clock=clock, key=sealing_key))
    if settings.test_routes:
        app.include_router(test_routes(token, puller=puller, clock=clock))
    app.state.runtime = runtime
    app.state.puller = puller
    return app


def main() -> None:
    service_main(IngestSettings, create_app, MIGRATIONS)
