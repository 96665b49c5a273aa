"""Composition root of ingest: settings, runtime (pool, broker, relay), consumers, routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Final, Self

import asyncpg
from fastapi import FastAPI
from pydantic import Field, SecretStr, model_validator

from pulse_contracts.values import Platform
from pulse_runtime.logging import get_logger
from pulse_runtime.service import Loop, ServiceRuntime, service_main
from pulse_runtime.settings import ServiceSettings
from pulse_runtime.topology import QUEUES

from . import repository, runs, sample_months, signing
from .api import ingest_router, internal_reads, pulling_routes, test_routes
from .consumer import (
    DEFAULT_ITEMS_BATCH,
    DEFAULT_ITEMS_PREFETCH,
    FETCH_QUEUE_NAMES,
    QUEUE_NAMES,
    register_consumers,
)
from .metrics import IngestMetrics
from .provider import ProviderConfig
from .pulling import (
    HIGH_QUEUE,
    CommentSettings,
    PriorityGate,
    Puller,
    PullSettings,
    QueueDepth,
)
from .runs_api import runs_internal, runs_router
from .scheduler import Clock
from .tokens import DEFAULT_TTL_S, MAX_TTL_S, TokenCache

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
DEFAULT_SCRAPECREATORS_URL: Final = "https://api.scrapecreators.com"
# Young-generation size and how often older generations follow (Python's default: 700, 10, 10).
GC_THRESHOLDS: Final = (50_000, 20, 100)
# How often the paused-organizations gauge is read from the database.
PAUSED_GAUGE_INTERVAL_S: Final = 15.0
# Sent to a fake provider when no key is configured (development and tests only).
FAKE_PROVIDER_KEY: Final = "pulse-dev-fake-key"

log = get_logger(__name__)


class IngestSettings(ServiceSettings):
    service: ClassVar[str] = "ingest"
    default_port: ClassVar[int] = 8001
    session_locks: ClassVar[bool] = True  # pg_try_advisory_lock of one replica at a time

    # ScrapeCreators. With a key: pull from scrapecreators_base_url. Without one, outside
    # production, an explicit PULSE_INGEST_SCRAPECREATORS_BASE_URL (the fake server) is pulled
    # with a dummy key. Neither: pulling is disabled (logged once at start-up).
    scrapecreators_base_url: str = DEFAULT_SCRAPECREATORS_URL
    scrapecreators_api_key: SecretStr | None = None
    provider_timeout_s: float = 15.0
    provider_max_attempts: int = 4
    provider_backoff_base_s: float = 0.5
    provider_backoff_max_s: float = 8.0
    provider_breaker_failures: int = 5
    provider_breaker_reset_s: float = 60.0
    # Provider calls in flight per platform (PULSE_INGEST_PROVIDER_CONCURRENCY_<PLATFORM>),
    # shared by fetches and comments. With the provider's seconds per call, these bound how
    # fast 200 newly registered posts get their first numbers (design/performance.md P9).
    provider_concurrency_tiktok: int = Field(default=8, ge=1, le=100)
    provider_concurrency_instagram: int = Field(default=6, ge=1, le=100)
    provider_concurrency_youtube: int = Field(default=8, ge=1, le=100)
    provider_concurrency_facebook: int = Field(default=6, ge=1, le=100)
    # The refresh scheduler.
    scheduler_interval_s: float = 60.0
    batch_size_tiktok: int = 10
    batch_size_instagram: int = 5
    batch_size_youtube: int = 15
    batch_size_facebook: int = 5
    fetch_queue_timeout_s: float = 1800.0
    credit_check_interval_s: float = 300.0
    # Fetch consumers: unacked commands per replica. High commands are one post each (start
    # tracking, a manual refresh), handled side by side up to the platforms' concurrency, so a
    # burst of registrations is pulled in parallel; low batches stay few so replicas share them.
    fetch_high_prefetch: int = Field(default=32, ge=1, le=1000)
    fetch_low_prefetch: int = 2
    low_max_wait_s: float = 60.0
    # n8n's item messages on pulse.ingest: unacked per replica, and at most this many handled
    # in one transaction (batching.py).
    items_prefetch: int = Field(default=DEFAULT_ITEMS_PREFETCH, ge=1, le=5000)
    items_batch_max: int = Field(default=DEFAULT_ITEMS_BATCH, ge=1, le=1000)
    # Ingest tokens remembered in process; a revoked token stops working within this many
    # seconds on every replica (tokens.py). 0 asks the database on every request.
    token_cache_ttl_s: float = Field(default=DEFAULT_TTL_S, ge=0, le=MAX_TTL_S)
    # Comments after successful pulls (pulling.py explains the cadence): at most this many
    # per post per fetch, over at most this many pages, at most once per interval.
    comments_enabled: bool = True
    comments_per_pull: int = Field(default=50, ge=0, le=500)
    comments_max_pages: int = Field(default=3, ge=1, le=20)
    comments_interval_s: float = Field(default=6 * 3600.0, ge=0)
    comments_workers: int = Field(default=2, ge=1, le=50)
    comments_poll_s: float = Field(default=30.0, gt=0)
    # A run n8n opened and did not complete within this becomes failed, reason timed_out.
    run_timeout_s: float = Field(default=runs.DEFAULT_TIMEOUT.total_seconds(), gt=0)
    # ingest.samples by month (migration 0008): partitions made this many months ahead, at
    # start-up and at this interval, which also moves backfilled months out of the default.
    sample_months_ahead: int = Field(default=3, ge=1, le=24)
    sample_months_interval_s: float = Field(default=3600.0, gt=0)
    # Seals webhook signing secrets at rest; derived from the service token when unset.
    signing_key: SecretStr | None = None
    # Tests only (refused in production): /internal/test/* routes and a clock offset.
    test_routes: bool = False
    clock_offset_s: float = 0.0

    @model_validator(mode="after")
    def _refuse_test_controls_in_production(self) -> Self:
        if self.env == "production" and (self.test_routes or self.clock_offset_s):
            raise ValueError(
                "PULSE_INGEST_TEST_ROUTES and PULSE_INGEST_CLOCK_OFFSET_S are for tests only"
            )
        return self

    def provider(self) -> ProviderConfig | None:
        """The provider to pull from, or None when pulling is disabled."""
        key = self.scrapecreators_api_key.get_secret_value() if self.scrapecreators_api_key else ""
        base_url = self.scrapecreators_base_url
        if not key:
            if base_url.rstrip("/") == DEFAULT_SCRAPECREATORS_URL or self.env == "production":
                return None
            key = FAKE_PROVIDER_KEY
        return ProviderConfig(
            base_url=base_url,
            api_key=key,
            timeout_s=self.provider_timeout_s,
            max_attempts=self.provider_max_attempts,
            backoff_base_s=self.provider_backoff_base_s,
            backoff_max_s=self.provider_backoff_max_s,
            concurrency=self.provider_concurrency(),
            breaker_failures=self.provider_breaker_failures,
            breaker_reset_s=self.provider_breaker_reset_s,
        )

    def provider_concurrency(self) -> dict[Platform, int]:
        return {
            "tiktok": self.provider_concurrency_tiktok,
            "instagram": self.provider_concurrency_instagram,
            "youtube": self.provider_concurrency_youtube,
            "facebook": self.provider_concurrency_facebook,
        }

    def pull_settings(self, provider: ProviderConfig) -> PullSettings:
        return PullSettings(
            provider=provider,
            batch_sizes={
                "tiktok": self.batch_size_tiktok,
                "instagram": self.batch_size_instagram,
                "youtube": self.batch_size_youtube,
                "facebook": self.batch_size_facebook,
            },
            scheduler_interval_s=self.scheduler_interval_s,
            queue_timeout=timedelta(seconds=self.fetch_queue_timeout_s),
            credit_check_interval=timedelta(seconds=self.credit_check_interval_s),
            low_max_wait_s=self.low_max_wait_s,
            comments=CommentSettings(
                enabled=self.comments_enabled,
                per_pull=self.comments_per_pull,
                max_pages=self.comments_max_pages,
                every=timedelta(seconds=self.comments_interval_s),
                workers=self.comments_workers,
                poll_s=self.comments_poll_s,
            ),
        )

    def sealing_key(self) -> bytes:
        configured = self.signing_key.get_secret_value() if self.signing_key else None
        return signing.master_key(configured, self.service_token.get_secret_value())


def create_app(settings: ServiceSettings) -> FastAPI:
    s = settings if isinstance(settings, IngestSettings) else IngestSettings.load()
    provider = s.provider()
    queues = QUEUE_NAMES + (FETCH_QUEUE_NAMES if provider else ())
    runtime = ServiceRuntime(s, queues=[QUEUES[name] for name in queues])
    clock = Clock(s.clock_offset_s)

    def pool() -> asyncpg.Pool:
        return runtime.pool

    puller: Puller | None = None
    metrics = IngestMetrics(runtime.metrics.registry)
    loops: list[tuple[str, Loop]] = []
    depth = QueueDepth(s.amqp_url, HIGH_QUEUE)
    if provider is None:
        log.warning(
            "pulling from ScrapeCreators is disabled: set PULSE_INGEST_SCRAPECREATORS_API_KEY "
            "(or, in development, PULSE_INGEST_SCRAPECREATORS_BASE_URL of the fake server)"
        )
    else:
        gate = PriorityGate(depth, max_wait_s=s.low_max_wait_s)
        puller = Puller(
            s.pull_settings(provider),
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
        log.info("pulling from ScrapeCreators", base_url=provider.base_url)
    loops.append(
        ("run-timeouts", runs.timeout_loop(pool, clock.now, timedelta(seconds=s.run_timeout_s)))
    )
    loops.append(
        (
            "sample-months",
            sample_months.months_loop(
                clock.now, ahead=s.sample_months_ahead, interval_s=s.sample_months_interval_s
            ),
        )
    )
    tokens = TokenCache(ttl_s=s.token_cache_ttl_s)
    items = register_consumers(
        runtime, clock=clock, puller=puller, settings=s, tokens=tokens, metrics=metrics
    )

    @contextlib.asynccontextmanager
    async def resources() -> AsyncIterator[None]:
        quiet_collector()
        try:
            if puller is None:
                yield
            else:
                async with puller.running():
                    yield
        finally:
            await items.close()
            await depth.close()

    app = runtime.http_app("Pulse ingest", loops=loops, resources=resources)
    token = s.service_token.get_secret_value()
    sealing_key = s.sealing_key()
    app.include_router(ingest_router(pool, sealing_key, tokens, metrics))
    app.include_router(internal_reads(pool, token, metrics))
    app.include_router(runs_router(pool, tokens=tokens, clock=clock, wake_relay=runtime.wake_relay))
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
    if s.test_routes:
        app.include_router(test_routes(token, puller=puller, clock=clock))
    app.state.runtime = runtime
    app.state.puller = puller
    return app


def quiet_collector() -> None:
    """Keep the cyclic garbage collector off ingest's hot path, once start-up is done.

    A batch allocates thousands of short-lived objects (items, candidates, rows), so with the
    default thresholds the collector ran a full collection every couple of seconds under load,
    each one walking every object the service ever imported: a quarter of ingest's CPU at 10,000
    samples/s (measured: 15 full collections, 1.1 s of 5.5 s). Freezing moves what start-up
    built (modules, models, routes) out of the collector's view for good, and a larger young
    generation lets a request's garbage die by reference counting before it is ever scanned.
    Cycles are still collected, just not a hundred times a second."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def main() -> None:
    service_main(IngestSettings, create_app, MIGRATIONS)
