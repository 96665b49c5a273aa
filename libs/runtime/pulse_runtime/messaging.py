"""Broker construction and thin subscribers: validate the envelope, bind the correlation id,
call the handler.

A body no contract accepts is rejected straight to the DLQ with the reason logged; any other
handler failure is nacked and redelivered until the queue's delivery limit dead-letters it.
A failure that only says PostgreSQL is briefly out of reach waits before its nack (`back_off`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from typing import Any, Final, NoReturn, cast

import asyncpg
import structlog
from faststream import AckPolicy
from faststream.exceptions import RejectMessage
from faststream.message import StreamMessage
from faststream.rabbit import Channel, RabbitBroker
from faststream.rabbit.message import RabbitMessage
from pydantic import ValidationError

from pulse_contracts import ContractError, Envelope, EventData, parse_event
from pulse_contracts.envelope import REGISTRY

from . import tracing
from .logging import CORRELATION_KEY, get_logger
from .topology import QueueSpec

log = get_logger(__name__)

# For queues of large messages (batches of up to 1000 samples, whole campaign documents): enough
# in flight to keep a handler busy, but not 32 of them decoded in memory at once, which is what
# lifted a consumer's resident memory under load.
LARGE_MESSAGE_PREFETCH = 8

# Failures that say the database is out of reach for now (a restart, a failover, a cut
# session, a full connection table), not that the message is bad. Redelivered at once, such a
# message used the queue's five deliveries in about a second and was dead-lettered while
# PostgreSQL restarted (found by `make chaos`); waiting 2, 4, 8, 16, 30 s before each nack
# spreads them over a minute, longer than a restart takes.
TRANSIENT: Final = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    TimeoutError,
)
MAX_BACK_OFF_S: Final = 30.0

EventHandler = Callable[[Envelope[EventData]], Awaitable[None]]
BodyHandler = Callable[[Envelope[EventData], bytes], Awaitable[None]]
RawHandler = Callable[[bytes, dict[str, Any], str | None], Awaitable[None]]


def create_broker(amqp_url: str, *, prefetch: int = 32) -> RabbitBroker:
    return RabbitBroker(
        amqp_url,
        default_channel=Channel(prefetch_count=prefetch),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        logger=None,  # our own structured lines below; per-message framework logs cost throughput
        # FastStream's telemetry middleware when tracing is on (pulse_runtime.tracing).
        middlewares=tracing.broker_middlewares(),
    )


def taken(message: Any) -> RabbitMessage:
    """The message a subscriber decoded by message_itself was called with, its cycle undone.

    FastStream keeps what a decoder returned on the message itself (a cache for filters), and
    message_itself returns the message: a reference cycle that kept every body (~130 KB for a
    kpi.updated, more for a post.pulled) alive until the collector's next full pass. Under load
    that was hundreds of MB per service (P6) whenever full passes were rare."""
    msg = cast("RabbitMessage", message)
    msg.clear_cache()
    return msg


async def message_itself(message: StreamMessage[Any]) -> StreamMessage[Any]:
    # What the subscribers below (and the gateway's stream relay) are called with. FastStream
    # would JSON-decode every body first (parse_envelope reads the bytes once itself: that
    # decoding was pure cost), and injecting the message as a Context parameter resolves it in
    # a worker thread, one hop per message.
    return message


@cache
def _envelope_of(model: type[EventData]) -> type[Envelope[Any]]:
    typed: type[Envelope[Any]] = Envelope[model]  # type: ignore[valid-type]
    return typed


def parse_envelope(
    body: bytes,
    type_hint: str | None = None,
    narrow: Mapping[str, type[EventData]] | None = None,
) -> Envelope[EventData]:
    """parse_event, validating straight from the JSON when `type_hint` (the routing key, which
    names the event type) says which contract to expect: about twice as fast on large batches
    and documents. Anything that does not match the hint exactly takes parse_event's path,
    which gives the same result or the precise error.

    `narrow` maps event types to data models of only the fields a consumer reads (unknown keys
    ignored, not registered): such a message's envelope is validated as always, its data only
    as far as that model goes, which is most of the cost saved on large messages. A body that
    model refuses is refused with parse_event's reason (the contract refuses it too)."""
    slim = narrow.get(type_hint) if narrow and type_hint else None
    model = slim or (REGISTRY.get((type_hint, 1)) if type_hint else None)
    if model is not None:
        try:
            envelope = _envelope_of(model).model_validate_json(body)
        except ValidationError:
            pass
        else:
            if envelope.type == model.event_type and envelope.version == model.event_version:
                return cast("Envelope[EventData]", envelope)
    envelope = parse_event(body)
    if narrow and envelope.type in narrow and envelope.type != type_hint:
        # The hint named another type: decode as the body's own type says, narrowly too.
        return parse_envelope(body, envelope.type, narrow)
    return envelope


def subscribe_events(
    broker: RabbitBroker,
    spec: QueueSpec,
    handle: EventHandler,
    *,
    prefetch: int | None = None,
    accepts: tuple[type[EventData], ...] = (),
    narrow: Mapping[str, type[EventData]] | None = None,
) -> None:
    """Consume envelopes from `spec`'s queue into `handle` (one call per delivered message).

    `prefetch` gives the queue a channel of its own (e.g. long-running commands, where a large
    prefetch would let one replica hoard work); `accepts` rejects any other message type;
    `narrow` decodes the types it names with those data models (parse_envelope).
    """

    async def call(envelope: Envelope[EventData], _body: bytes) -> None:
        await handle(envelope)

    _subscribe(broker, spec, call, prefetch=prefetch, accepts=accepts, narrow=narrow)


def subscribe_events_with_body(
    broker: RabbitBroker,
    spec: QueueSpec,
    handle: BodyHandler,
    *,
    prefetch: int | None = None,
    narrow: Mapping[str, type[EventData]] | None = None,
) -> None:
    """subscribe_events for a handler that also takes the message's body: one that keeps a
    large message's text as it came, decoding only what it reads (`narrow`). A ContractError
    the handler raises (it decoded more of the body itself) rejects the message to the DLQ,
    as one raised by the decoding here does."""
    _subscribe(broker, spec, handle, prefetch=prefetch, accepts=(), narrow=narrow)


def _subscribe(
    broker: RabbitBroker,
    spec: QueueSpec,
    handle: BodyHandler,
    *,
    prefetch: int | None,
    accepts: tuple[type[EventData], ...],
    narrow: Mapping[str, type[EventData]] | None,
) -> None:
    extra: dict[str, Any] = {}
    if prefetch is not None:
        extra["channel"] = Channel(prefetch_count=max(1, prefetch))

    @broker.subscriber(
        spec.queue(),
        spec.exchange,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{spec.name}:consume",
        description=f"Events bound by {_keys(spec)} on {spec.exchange.name}",
        decoder=message_itself,
        **extra,
    )
    async def consume(message: Any) -> None:
        msg = taken(message)
        try:
            envelope = parse_envelope(msg.body, msg.raw_message.routing_key, narrow)
            if accepts and not isinstance(envelope.data, accepts):
                raise ContractError(f"{spec.name} does not take {envelope.type} messages")
        except ContractError as exc:
            _reject(spec, msg, exc)
        tracing.set_correlation(envelope.correlation_id)
        with structlog.contextvars.bound_contextvars(
            **{CORRELATION_KEY: envelope.correlation_id},
            event_type=envelope.type,
            event_id=str(envelope.event_id),
        ):
            try:
                await handle(envelope, msg.body)
            except ContractError as exc:
                _reject(spec, msg, exc)
            except Exception as exc:
                log.exception("handler failed; message will be redelivered", queue=spec.name)
                await back_off(exc, msg.headers)
                raise


def _keys(spec: QueueSpec) -> str:
    return ", ".join(f"'{key}'" for key in spec.bindings)


def _reject(spec: QueueSpec, msg: RabbitMessage, exc: ContractError) -> NoReturn:
    log.error(
        "message rejected to DLQ",
        queue=spec.name,
        reason=str(exc),
        message_id=msg.message_id,
    )
    raise RejectMessage from exc


def subscribe_raw(
    broker: RabbitBroker, spec: QueueSpec, handle: RawHandler, *, prefetch: int | None = None
) -> None:
    """Consume non-envelope bodies (n8n's ingest items) with their headers.

    `prefetch` gives the queue a channel of its own, as for `subscribe_events` (e.g. a handler
    that batches what is delivered together wants more in flight than the default)."""
    extra: dict[str, Any] = {}
    if prefetch is not None:
        extra["channel"] = Channel(prefetch_count=max(1, prefetch))

    @broker.subscriber(
        spec.queue(),
        spec.exchange,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{spec.name}:consume",
        description=f"Raw messages bound by {_keys(spec)} on {spec.exchange.name}",
        decoder=message_itself,
        **extra,
    )
    async def consume(message: Any) -> None:
        msg = taken(message)
        correlation_id = msg.correlation_id or msg.message_id or ""
        tracing.set_correlation(correlation_id)
        with structlog.contextvars.bound_contextvars(**{CORRELATION_KEY: correlation_id}):
            try:
                await handle(msg.body, dict(msg.headers or {}), msg.message_id)
            except Exception as exc:
                log.exception("handler failed; message will be redelivered", queue=spec.name)
                await back_off(exc, msg.headers)
                raise


def back_off_seconds(exc: BaseException, headers: Mapping[str, Any] | None) -> float:
    """How long a failed delivery waits before its nack: 0 unless the failure is TRANSIENT,
    then 2 s doubling with each earlier delivery (quorum queues count them in
    `x-delivery-count`), at most MAX_BACK_OFF_S."""
    if not isinstance(exc, TRANSIENT):
        return 0.0
    try:
        earlier = int((headers or {}).get("x-delivery-count") or 0)
    except (TypeError, ValueError):
        earlier = 0
    return float(min(2.0 * 2 ** min(earlier, 8), MAX_BACK_OFF_S))


async def back_off(exc: BaseException, headers: Mapping[str, Any] | None) -> None:
    delay = back_off_seconds(exc, headers)
    if delay:
        await asyncio.sleep(delay)
