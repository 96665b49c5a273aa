"""ingest's subscribers: catalog copies, items n8n publishes to pulse.ingest, fetch commands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter

from pulse_contracts import Envelope, EventData, utcnow
from pulse_contracts.posts import FetchPosts
from pulse_runtime.logging import current_correlation_id, get_logger
from pulse_runtime.messaging import subscribe_events, subscribe_raw
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import benchmarks, handlers
from .batching import Batcher
from .handlers import MISSING_KEY, UNAUTHORIZED, IngestResult, Message
from .scheduler import Clock
from .settings import DEFAULT_ITEMS_BATCH, DEFAULT_ITEMS_PREFETCH
from .tokens import TokenCache

if TYPE_CHECKING:
    from .metrics import IngestMetrics
    from .pulling import Puller
    from .settings import IngestSettings

log = get_logger(__name__)
INGEST_KEY_HEADER = "x-pulse-key"
RUN_HEADER = "x-pulse-run"
QUEUE_NAMES: tuple[str, ...] = ("ingest.catalog", "ingest.items")
FETCH_QUEUE_NAMES: tuple[str, ...] = ("ingest.fetch.high", "ingest.fetch.low")


def register_consumers(
    runtime: ServiceRuntime,
    *,
    clock: Clock | None = None,
    puller: Puller | None = None,
    settings: IngestSettings | None = None,
    tokens: TokenCache | None = None,
    metrics: IngestMetrics | None = None,
) -> Batcher[Message, IngestResult]:
    """Subscribe ingest's queues; returns the batcher of n8n's item messages (the app closes
    it on shutdown)."""
    now = (clock or Clock()).now
    known = tokens if tokens is not None else TokenCache()

    async def catalog_event(envelope: Envelope[EventData]) -> None:
        if isinstance(envelope.data, benchmarks.BENCHMARK_TYPES):
            if await benchmarks.on_account_event(runtime.pool, envelope) and puller is not None:
                puller.benchmarks_due.set()
            return
        await handlers.on_catalog_event(
            runtime.pool, envelope, start_tracking=puller is not None, now=now(), tokens=known
        )
        if puller is not None:
            runtime.wake_relay()

    # Messages refused for their key belong to no organization: nobody but an operator can
    # see them, so they are counted where operators look (docs/ingest-operations.md).
    refused = Counter(
        "pulse_ingest_refused_messages",
        "AMQP item messages refused for a missing or unknown x-pulse-key (kept, no organization)",
        ["reason"],
        registry=runtime.metrics.registry,
    )
    for reason in ("missing_key", "unknown_key"):
        refused.labels(reason)  # shown at 0 from the start: a rise is what an alert looks for

    async def ingest_batch(messages: Sequence[Message]) -> list[IngestResult]:
        results = await handlers.ingest_messages(
            runtime.pool, messages=messages, tokens=known, now=utcnow()
        )
        runtime.wake_relay()
        if metrics is not None:
            metrics.count_items("amqp", results)
        for result in results:
            if result.rejected and result.rejected[0].code == UNAUTHORIZED:
                missing = result.rejected[0].message == MISSING_KEY
                refused.labels("missing_key" if missing else "unknown_key").inc()
        log.info(
            "ingest messages handled",
            messages=len(messages),
            accepted=sum(r.accepted for r in results),
            duplicates=sum(r.duplicates for r in results),
            rejected=sum(len(r.rejected) for r in results),
        )
        return results

    # Item messages are handled together, many per transaction (batching.py says how acks
    # stay per message); the larger prefetch is what lets a batch form. Bounded by count, not
    # bytes: 64 messages of 1000 items (~250 KB each) are 16 MB in flight, within P6's memory.
    batcher: Batcher[Message, IngestResult] = Batcher(
        ingest_batch,
        max_batch=settings.items_batch_max if settings else DEFAULT_ITEMS_BATCH,
        name="ingest.items",
    )

    async def ingest_message(body: bytes, headers: dict[str, Any], _: str | None) -> None:
        token = headers.get(INGEST_KEY_HEADER)
        result = await batcher.submit(
            Message(
                body=body,
                token=token if isinstance(token, str) else None,
                correlation_id=current_correlation_id(),
                run_id=handlers.run_of(headers.get(RUN_HEADER)),
            )
        )
        if result.rejected:
            log.info("ingest message had rejections", rejected=len(result.rejected))

    subscribe_events(runtime.broker, QUEUES["ingest.catalog"], catalog_event)
    subscribe_raw(
        runtime.broker,
        QUEUES["ingest.items"],
        ingest_message,
        prefetch=settings.items_prefetch if settings else DEFAULT_ITEMS_PREFETCH,
    )
    if puller is not None:
        high_prefetch = settings.fetch_high_prefetch if settings else 8
        low_prefetch = settings.fetch_low_prefetch if settings else 2
        # Fetch commands run for seconds: a small prefetch per queue keeps one replica from
        # hoarding batches the others could be pulling.
        for name, prefetch in (
            ("ingest.fetch.high", high_prefetch),
            ("ingest.fetch.low", low_prefetch),
        ):
            subscribe_events(
                runtime.broker,
                QUEUES[name],
                puller.handle_fetch,
                prefetch=prefetch,
                accepts=(FetchPosts,),
            )
    return batcher
