"""OpenTelemetry tracing (issue 17): with OTEL_EXPORTER_OTLP_ENDPOINT set, one sample posted to
ingest over HTTP is one trace through the outbox, RabbitMQ and the aggregator to kpi.updated
and the gateway's SSE push, as an OTLP receiver sees it; unset, nothing of OpenTelemetry's SDK
is even imported.

The receiver is a small OTLP/HTTP endpoint in this process (POST /v1/traces, protobuf decoded
with opentelemetry-proto); ingest, aggregator and gateway are real processes exporting to it.
"""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from pulse_contracts import utcnow
from tests.support.scenario import Bus, build_scenario
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.system
LOGS = ROOT / "test-artifacts" / "logs"
WAIT_S = 30.0


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


@dataclass
class Receiver:
    """What the services exported, span by span."""

    url: str
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def found(self) -> list[Span]:
        with self.lock:
            return list(self.spans)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest.FromString(body)
            spans = []
            for resource_spans in request.resource_spans:
                resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for s in scope_spans.spans:
                        spans.append(
                            Span(
                                service=str(resource.get("service.name")),
                                name=s.name,
                                kind=s.kind,
                                trace_id=s.trace_id.hex(),
                                span_id=s.span_id.hex(),
                                parent_id=s.parent_span_id.hex(),
                                attributes={a.key: _value(a.value) for a in s.attributes},
                            )
                        )
            with receiver.lock:
                receiver.spans.extend(spans)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:  # quiet test output
            return

    return Handler


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def traced(service_env: dict[str, str], receiver: Receiver) -> Iterator[dict[str, ServiceProcess]]:
    env = {
        **service_env,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # export every 0.1 s, not every 5 s
    }
    started: dict[str, ServiceProcess] = {}
    try:
        for name in ("ingest", "aggregator", "gateway"):
            started[name] = ServiceProcess(name, env, LOGS)
            started[name].start(timeout=120)  # a shared 2-core machine can be slow to start
        yield started
    finally:
        for proc in started.values():
            proc.stop()


async def _until(check: Any, message: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.2)


def _ancestors(span: Span, by_id: dict[str, Span]) -> list[Span]:
    chain = []
    while span.parent_id and span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain


async def test_one_trace_follows_a_sample_from_http_to_the_sse_push(
    servers: Servers,
    traced: dict[str, ServiceProcess],
    receiver: Receiver,
    admin_db: asyncpg.Connection,
) -> None:
    scenario = build_scenario(utcnow(), seed=23, raw_fixture=False)
    async with Bus(servers.amqp_url) as bus:
        for event in scenario.events:
            await bus.publish_event(scenario.org_id, event)

    async def known() -> bool:
        ingest = await admin_db.fetchval(
            "SELECT count(*) FROM ingest.tracked_posts WHERE org_id = $1", scenario.org_id
        )
        aggregator = await admin_db.fetchval(
            "SELECT count(*) FROM aggregator.posts WHERE campaign_id = $1",
            scenario.campaign["id"],
        )
        return bool(ingest == aggregator == len(scenario.posts))

    await _until(known, "ingest and the aggregator never learned the catalog")

    request_id = f"trace-{uuid4().hex}"
    post = scenario.posts[0]
    observed = (utcnow() - timedelta(minutes=3)).isoformat()
    item = {"post_id": str(post["id"]), "observed_at": observed, "metrics": {"views": 4242}}
    async with httpx.AsyncClient(base_url=traced["ingest"].url, timeout=30) as http:
        response = await http.post(
            "/api/ingest/posts",
            json={"items": [item]},
            headers={"Authorization": f"Bearer {scenario.token}", "X-Request-ID": request_id},
        )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1

    # The request's span: ingest's server span, the request id as its correlation attribute.
    async def request_span() -> Span | None:
        return next(
            (
                s
                for s in receiver.found()
                if s.service == "pulse-ingest"
                and s.kind == ProtoSpan.SPAN_KIND_SERVER
                and s.attributes.get("pulse.correlation_id") == request_id
            ),
            None,
        )

    http_span: Span = await _until(request_span, "ingest exported no span of the request")
    assert "/api/ingest/posts" in http_span.name

    wanted = {
        ("pulse-ingest", "pulse.events.post.pulled publish", ProtoSpan.SPAN_KIND_PRODUCER),
        ("pulse-aggregator", "pulse.events.post.pulled process", ProtoSpan.SPAN_KIND_CONSUMER),
        ("pulse-aggregator", "aggregator recompute", ProtoSpan.SPAN_KIND_INTERNAL),
        ("pulse-aggregator", "pulse.events.kpi.updated publish", ProtoSpan.SPAN_KIND_PRODUCER),
        ("pulse-gateway", "pulse.events.kpi.updated process", ProtoSpan.SPAN_KIND_CONSUMER),
        ("pulse-gateway", "gateway sse push", ProtoSpan.SPAN_KIND_INTERNAL),
    }

    async def whole_trace() -> list[Span] | None:
        spans = [s for s in receiver.found() if s.trace_id == http_span.trace_id]
        seen = {(s.service, s.name, s.kind) for s in spans}
        return spans if wanted <= seen else None

    try:
        spans = await _until(whole_trace, "the trace did not reach the SSE push")
    except AssertionError:
        seen = {(s.service, s.name) for s in receiver.found() if s.trace_id == http_span.trace_id}
        raise AssertionError(f"spans of the request's trace: {sorted(seen)}") from None

    # One chain, not just one id: the SSE push descends from the HTTP request through the
    # post.pulled consume, the recompute and the kpi.updated message. (FastStream's middleware
    # makes a "create" span for each message, the parent of its consumers, beside the
    # "publish" span of the send itself.)
    by_id = {s.span_id: s for s in spans}
    push = next(s for s in spans if s.name == "gateway sse push")
    chain = [(s.service, s.name) for s in _ancestors(push, by_id)]
    assert chain == [
        ("pulse-gateway", "pulse.events.kpi.updated process"),
        ("pulse-aggregator", "pulse.events.kpi.updated create"),
        ("pulse-aggregator", "aggregator recompute"),
        ("pulse-aggregator", "pulse.events.post.pulled process"),
        ("pulse-ingest", "pulse.events.post.pulled create"),
        ("pulse-ingest", http_span.name),
    ], chain
    assert http_span.parent_id == ""  # the request started the trace
    # The correlation id travels as an attribute of every message the sample caused.
    for s in spans:
        if s.kind == ProtoSpan.SPAN_KIND_CONSUMER and s.name.startswith("pulse.events"):
            assert s.attributes.get("pulse.correlation_id") == request_id, s
    # Probes and scrapes are not traced.
    assert not any(s.name.endswith(("/health", "/ready", "/metrics")) for s in receiver.found())


def test_without_the_endpoint_nothing_of_opentelemetry_is_loaded(
    service_env: dict[str, str],
) -> None:
    """The default: a service built without OTEL_EXPORTER_OTLP_ENDPOINT imports neither the
    SDK nor an exporter nor an instrumentation, and its broker has no telemetry middleware."""
    env = {k: v for k, v in service_env.items() if not k.startswith("OTEL_")}
    code = (
        "import sys\n"
        "from pulse_ingest.app import IngestSettings, create_app\n"
        "app = create_app(IngestSettings.load())\n"
        "runtime = app.state.runtime\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk',"
        " 'opentelemetry.exporter', 'opentelemetry.instrumentation')))\n"
        "assert not loaded, loaded\n"
        "assert not runtime.broker.middlewares, runtime.broker.middlewares\n"
        "print('untraced')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "PULSE_SERVICE_TOKEN": "test-service-token"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("untraced")
