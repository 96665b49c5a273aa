"""OpenTelemetry tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.

When it is set, `setup` (called once by ServiceRuntime) installs a tracer provider exporting
OTLP over HTTP (the SDK reads the endpoint, headers and OTEL_BSP_* itself), and the runtime
wires the standard instrumentations where brokers and apps are made: FastStream's
RabbitTelemetryMiddleware on the broker (a span per publish and per consumed message, the
context carried in the message headers) and the FastAPI instrumentation on the app (a span per
request). What those two cannot see, Pulse carries itself:

- the outbox: an event is published by the relay, after the request or message that caused it
  has finished, so the row keeps that moment's `traceparent` and the relay publishes inside it;
- the aggregator's recompute, which publishes kpi.updated from a background pass (possibly on
  another replica) for campaigns that post.pulled messages marked: the mark's trace context is
  kept in the schema's `trace_marks` table (`remember` / `recall`).

When the variable is unset nothing of the SDK is imported, no span is made, and the helpers
below cost one attribute check.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .db import Connection

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
CORRELATION_ATTRIBUTE = "pulse.correlation_id"
# Probes and scrapes every few seconds would drown the traces worth reading.
EXCLUDED_URLS = "/health,/ready,/metrics"
TRACER_NAME = "pulse"


class _Tracing:
    provider: TracerProvider | None = None


_state = _Tracing()


def active() -> bool:
    return _state.provider is not None


def setup(service: str) -> TracerProvider | None:
    """The process's tracer provider, made on the first call when the endpoint is set; None
    (and nothing imported) when it is not."""
    if _state.provider is not None or not os.environ.get(ENDPOINT_VARIABLE):
        return _state.provider
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"pulse-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _state.provider = provider
    return provider


def shutdown() -> None:
    """Export what is still buffered (a stopping service's last spans)."""
    if _state.provider is not None:
        _state.provider.force_flush(timeout_millis=5000)


def broker_middlewares() -> tuple[Any, ...]:
    """FastStream's own telemetry middleware for RabbitBroker, when tracing is on."""
    if _state.provider is None:
        return ()
    from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware

    return (RabbitTelemetryMiddleware(tracer_provider=_state.provider),)


def instrument_app(app: Any) -> None:
    """The FastAPI instrumentation on `app`, when tracing is on: a server span per request."""
    if _state.provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_state.provider,
        excluded_urls=EXCLUDED_URLS,
        # One span per request, not one more per body chunk read or written: an SSE stream
        # writes a frame every few seconds for hours.
        exclude_spans=["receive", "send"],
    )


def set_correlation(correlation_id: str) -> None:
    """The correlation id (the request id, the envelope's correlation_id) on the current span,
    so a trace is found from a log line and the other way round."""
    if _state.provider is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attribute(CORRELATION_ATTRIBUTE, correlation_id)


def traceparent() -> str | None:
    """The current span's W3C traceparent, to keep with work done later; None when off."""
    if _state.provider is None:
        return None
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def continued(parent: str | None) -> Iterator[None]:
    """Run the block inside the trace `parent` (a traceparent kept earlier), if any."""
    if _state.provider is None or not parent:
        yield
        return
    from opentelemetry import context
    from opentelemetry.propagate import extract

    token = context.attach(extract({"traceparent": parent}))
    try:
        yield
    finally:
        context.detach(token)


class SpanNotes:
    """What a block learns while its span is open (`set`); discarded when tracing is off."""

    def __init__(self, span: Any = None) -> None:
        self._span = span

    def set(self, key: str, value: str | int | float | bool) -> None:
        if self._span is not None:
            self._span.set_attribute(key, value)


_NO_NOTES = SpanNotes()


@contextlib.contextmanager
def span(name: str, **attributes: str | int | float | bool) -> Iterator[SpanNotes]:
    """A span of Pulse's own around the block (e.g. the gateway's SSE push); nothing when off."""
    if _state.provider is None:
        yield _NO_NOTES
        return
    tracer = _state.provider.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(name, attributes=attributes) as current:
        yield SpanNotes(current)


async def remember(conn: Connection, schema: str, keys: Iterable[str]) -> None:
    """Keep the current trace for work a background pass will do for `keys` (the latest
    cause wins); call inside the transaction that queues the work. Nothing when off."""
    parent = traceparent()
    if parent is None:
        return
    await conn.executemany(
        f"INSERT INTO {schema}.trace_marks (key, traceparent) VALUES ($1, $2) "
        "ON CONFLICT (key) DO UPDATE SET traceparent = EXCLUDED.traceparent, created_at = now()",
        [(key, parent) for key in keys],
    )


async def recall(conn: Connection, schema: str, key: str) -> str | None:
    """The trace `remember` kept for `key`, taken (the mark is removed); None when off."""
    if _state.provider is None:
        return None
    found: str | None = await conn.fetchval(
        f"DELETE FROM {schema}.trace_marks WHERE key = $1 RETURNING traceparent", key
    )
    return found
