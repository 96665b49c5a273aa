"""ingest's settings: the ScrapeCreators client, the refresh scheduler, fetch and item
consumers, ingest tokens, comments, n8n runs, and the test-only controls refused in
production."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Final, Self

from pydantic import Field, SecretStr, model_validator

from pulse_contracts.values import Platform
from pulse_runtime.settings import ServiceSettings

from . import runs, signing
from .comment_pulls import CommentSettings
from .provider import ProviderConfig
from .pulling import PullSettings
from .tokens import DEFAULT_TTL_S, MAX_TTL_S

DEFAULT_SCRAPECREATORS_URL: Final = "https://api.scrapecreators.com"
# Sent to a fake provider when no key is configured (development and tests only).
FAKE_PROVIDER_KEY: Final = "pulse-dev-fake-key"
# n8n's item messages: unacked per replica, and how many one transaction handles (batching.py).
DEFAULT_ITEMS_PREFETCH: Final = 64
DEFAULT_ITEMS_BATCH: Final = 64


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
    # Benchmark accounts (benchmarks.py): how often the loop looks for accounts due (each is
    # pulled once a day).
    benchmark_poll_s: float = Field(default=60.0, gt=0)
    # ingest.samples by month (migration 0008): partitions made this many months ahead, at
    # start-up and at this interval, which also moves backfilled months out of the default.
    sample_months_ahead: int = Field(default=3, ge=1, le=24)
    sample_months_interval_s: float = Field(default=3600.0, gt=0)
    # n8n's item messages on pulse.ingest: unacked per replica, and at most this many handled
    # in one transaction (batching.py).
    items_prefetch: int = Field(default=DEFAULT_ITEMS_PREFETCH, ge=1, le=5000)
    items_batch_max: int = Field(default=DEFAULT_ITEMS_BATCH, ge=1, le=1000)
    # Ingest tokens remembered in process; a revoked token stops working within this many
    # seconds on every replica (tokens.py). 0 asks the database on every request.
    token_cache_ttl_s: float = Field(default=DEFAULT_TTL_S, ge=0, le=MAX_TTL_S)
    # HTTP requests per minute for each ingest token (the webhook and runs; rate_limits.py),
    # counted in Redis across replicas: higher than a person's gateway limit, since a workflow
    # delivers one batch per pulled page.
    token_requests_per_minute: int = Field(default=1200, ge=1)
    # Comments after successful pulls (comment_pulls.py explains the cadence): at most this many
    # per post per fetch, over at most this many pages, at most once per interval.
    comments_enabled: bool = True
    comments_per_pull: int = Field(default=50, ge=0, le=500)
    comments_max_pages: int = Field(default=3, ge=1, le=20)
    comments_interval_s: float = Field(default=6 * 3600.0, ge=0)
    comments_workers: int = Field(default=2, ge=1, le=50)
    comments_poll_s: float = Field(default=30.0, gt=0)
    # A run n8n opened and did not complete within this becomes failed, reason timed_out.
    run_timeout_s: float = Field(default=runs.DEFAULT_TIMEOUT.total_seconds(), gt=0)
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
