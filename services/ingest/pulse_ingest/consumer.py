"""ingest's subscribers: catalog copies, items n8n publishes to pulse.ingest, fetch commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from faststream import AckPolicy
from faststream.exceptions import RejectMessage
from faststream.rabbit import Channel, RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from pulse_contracts import ContractError, Envelope, EventData, parse_event, utcnow
from pulse_contracts.posts import FetchPosts
from pulse_runtime.logging import CORRELATION_KEY, current_correlation_id, get_logger
from pulse_runtime.messaging import EventHandler, subscribe_events, subscribe_raw
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES, QueueSpec

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
        subscribe_fetch(
            runtime.broker, QUEUES["ingest.fetch.high"], puller.handle_fetch, high_prefetch
        )
        subscribe_fetch(
            runtime.broker, QUEUES["ingest.fetch.low"], puller.handle_fetch, low_prefetch
        )


def subscribe_fetch(
    broker: RabbitBroker, spec: QueueSpec, handle: EventHandler, prefetch: int
) -> None:
    """Like the runtime's subscribe_events, on a channel of its own with its own prefetch: the
    number of fetch commands one replica holds at once (commands run for seconds, so a large
    prefetch would let one replica hoard batches the others could be pulling)."""

    @broker.subscriber(
        spec.queue(),
        spec.exchange,
        channel=Channel(prefetch_count=max(1, prefetch)),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{spec.name}:consume",
        description=f"FetchPosts commands bound by '{spec.binding}' on {spec.exchange.name}",
    )
    async def consume(msg: RabbitMessage) -> None:
        try:
            envelope = parse_event(msg.body)
            if not isinstance(envelope.data, FetchPosts):
                raise ContractError(f"{spec.name} takes FetchPosts commands, not {envelope.type}")
        except ContractError as exc:
            log.error(
                "message rejected to DLQ",
                queue=spec.name,
                reason=str(exc),
                message_id=msg.message_id,
            )
            raise RejectMessage from exc
        with structlog.contextvars.bound_contextvars(
            **{CORRELATION_KEY: envelope.correlation_id},
            event_type=envelope.type,
            event_id=str(envelope.event_id),
        ):
            try:
                await handle(envelope)
            except Exception:
                log.exception("fetch failed; command will be redelivered", queue=spec.name)
                raise
