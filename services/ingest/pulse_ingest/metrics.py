"""ingest's own series on /metrics: samples taken in, provider calls, credits, circuit breakers,
organizations paused for lack of credits (the dashboard's ingest and provider panels, and the
PulseProviderCircuitOpen / PulseProviderOutOfCredits alerts)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge

from .handlers import IngestResult
from .provider_runs import PullRun

# The platforms ingest pulls (provider.py's concurrency table keys); others are never pulled.
PULLED_PLATFORMS = ("tiktok", "instagram", "youtube", "facebook")


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.samples = Counter(
            "pulse_ingest_samples",
            "Items taken in, by source (http, amqp, provider, import) and outcome",
            ["source", "outcome"],
            registry=registry,
        )
        self.provider_calls = Counter(
            "pulse_ingest_provider_calls",
            "Provider pulls of a post, by platform, status (ok, failed, skipped) and error code",
            ["platform", "status", "error_code"],
            registry=registry,
        )
        self.provider_credits = Counter(
            "pulse_ingest_provider_credits",
            "Provider credits spent (one per HTTP request sent)",
            ["platform"],
            registry=registry,
        )
        self.circuit_open = Gauge(
            "pulse_ingest_provider_circuit_open",
            "1 while the provider circuit breaker of a platform is open",
            ["platform"],
            registry=registry,
        )
        self.paused_organizations = Gauge(
            "pulse_ingest_paused_organizations",
            "Organizations whose pulls are paused: the provider account is out of credits",
            registry=registry,
        )
        self.concurrency = Gauge(
            "pulse_ingest_provider_concurrency",
            "Provider calls allowed in flight per platform",
            ["platform"],
            registry=registry,
        )

    def count_items(self, source: str, results: Iterable[IngestResult]) -> None:
        for result in results:
            self.samples.labels(source, "accepted").inc(result.accepted)
            self.samples.labels(source, "duplicate").inc(result.duplicates)
            self.samples.labels(source, "rejected").inc(len(result.rejected))

    def count_runs(self, runs: Iterable[PullRun]) -> None:
        for run in runs:
            self.provider_calls.labels(run.platform, run.status, run.error_code or "").inc()
            self.provider_credits.labels(run.platform).inc(run.credits)

    def watch_breakers(self, state: Callable[[str], str | None]) -> None:
        """`state(platform)` is the breaker's state, or None while no provider client exists;
        read at every scrape."""
        for platform in PULLED_PLATFORMS:

            def is_open(platform: str = platform) -> float:
                return 1.0 if state(platform) == "open" else 0.0

            self.circuit_open.labels(platform).set_function(is_open)
