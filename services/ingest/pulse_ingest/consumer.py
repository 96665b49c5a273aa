"""ingest's subscribers: catalog copies, items n8n publishes to pulse.ingest, fetch commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulse_contracts import Envelope, EventData, utcnow
from pulse_contracts.posts import FetchPosts
from pulse_runtime.logging import current_correlation_id, get_logger
from pulse_runtime.messaging import subscribe_events, subscribe_raw
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import handlers
from .scheduler import Clock

if TYPE_CHECKING:
    from .app import IngestSettings
    from .pulling import Puller

log = get_logger(__name__)
INGEST_KEY_HEADER = "x-pulse-key"
QUEUE_NAMES: tuple[str, ...] = ("ingest.catalog", "ingest.items")
FETCH_QUEUE_NAMES: tuple[str, ...] = ("ingest.fetch.high", "ingest.fetch.low")


def register_consumers(
    runtime: ServiceRuntime,
    *,
    clock: Clock | None = None,
    puller: Puller | None = None,
    settings: IngestSettings | None = None,
) -> None:
    now = (clock or Clock()).now

    async def catalog_event(envelope: Envelope[EventData]) -> None:
        await handlers.on_catalog_event(
            runtime.pool, envelope, start_tracking=puller is not None, now=now()
        )
        if puller is not None:
            runtime.wake_relay()

    async def ingest_message(body: bytes, headers: dict[str, Any], _: str | None) -> None:
        token = headers.get(INGEST_KEY_HEADER)
        result = await handlers.ingest_message(
            runtime.pool,
            body=body,
            token=token if isinstance(token, str) else None,
            now=utcnow(),
            correlation_id=current_correlation_id(),
        )
        runtime.wake_relay()
        log.info(
            "ingest message handled",
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=len(result.rejected),
        )

    subscribe_events(runtime.broker, QUEUES["ingest.catalog"], catalog_event)
    subscribe_raw(runtime.broker, QUEUES["ingest.items"], ingest_message)
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
