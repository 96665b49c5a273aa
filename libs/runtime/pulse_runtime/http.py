"""The HTTP basics every service shares: request ids, errors, health, readiness, metrics, docs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import uuid4

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import tracing
from .errors import ApiError, install_error_handlers
from .logging import CORRELATION_KEY

ReadyCheck = Callable[[], Awaitable[None]]
REQUEST_ID_HEADER = "X-Request-ID"
SWAGGER_CDN = "https://cdn.jsdelivr.net"  # where FastAPI's Swagger UI page loads its bundle


class Metrics:
    """One registry per app instance: no module-level mutable state."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "pulse_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "pulse_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.messages = Counter(
            "pulse_messages", "Messages handled", ["queue", "outcome"], registry=self.registry
        )
        # RSS and CPU of this process (process_resident_memory_bytes...): the dashboard's memory
        # panel and the numbers the Kubernetes memory limits come from (bench P6).
        ProcessCollector(registry=self.registry)
        # The outbox as the relay sees it (ServiceRuntime refreshes these): committed events
        # not yet on RabbitMQ. Every replica reports the same table.
        self.outbox_pending = Gauge(
            "pulse_outbox_pending", "Events committed but not yet published", registry=self.registry
        )
        self.outbox_oldest = Gauge(
            "pulse_outbox_oldest_seconds",
            "Age of the oldest event committed but not yet published (0 when none)",
            registry=self.registry,
        )
        # How old the newest numbers are when they reach a stage (design/performance.md P2):
        # `aggregated` = ingest accepted the sample -> the aggregator stored it; `read_model` =
        # the aggregator built kpi.updated -> the gateway holds it.
        self.freshness = Histogram(
            "pulse_freshness_seconds",
            "Age of data on arrival at a pipeline stage",
            ["stage"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
        )
        # The API rate limits (rate_limit.py) of the services that have them: admitted, refused
        # (429) or unchecked (their Redis unreachable: the request passed without a count).
        self.rate_limited = Counter(
            "pulse_rate_limit_requests",
            "Requests seen by the API rate limit, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.service = service


class _RequestContext:
    """The request id (taken or made, echoed, bound to every log line) and the request metrics.

    Pure ASGI rather than BaseHTTPMiddleware, for two reasons: that one runs the app in a task
    group, so an HTTPException raised while a route reads its body (a body over its limit)
    reached FastAPI wrapped in an ExceptionGroup and was answered 400 instead of 413; and its
    extra task and memory stream per request showed in every profile of a small read (bench
    P3, P5)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self._metrics = metrics
        # Each label set's metric, once found: prometheus_client's labels() checks and locks on
        # every call, a third of what counting a request cost (1.7 against 4.5 µs).
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (Headers(scope=scope).get(REQUEST_ID_HEADER) or str(uuid4()))[:200]
        tracing.set_correlation(request_id)  # on the request's server span, when tracing is on
        started = time.perf_counter()
        answered = False

        def count(status: str) -> None:
            path = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], path, status)
            if (counter := self._counted.get(key)) is None:
                counter = self._counted[key] = self._metrics.http_requests.labels(*key)
            counter.inc()
            if (timer := self._timed.get(path)) is None:
                timer = self._timed[path] = self._metrics.http_latency.labels(path)
            timer.observe(time.perf_counter() - started)

        async def send_with_id(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                # Counted when the answer starts, so a stream counts its time to first byte.
                answered = True
                count(str(message["status"]))
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            with structlog.contextvars.bound_contextvars(**{CORRELATION_KEY: request_id}):
                await self.app(scope, receive, send_with_id)
        except Exception:
            if not answered:
                count("500")  # what the server error handler outside answers
            raise


def create_http_app(
    *,
    title: str,
    metrics: Metrics,
    ready_checks: list[ReadyCheck],
    asyncapi: Callable[[], dict[str, Any]],
    lifespan: Any,
) -> FastAPI:
    app = FastAPI(
        title=title,
        lifespan=lifespan,
        docs_url=None,  # served below, with a Content-Security-Policy
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    app.add_middleware(_RequestContext, metrics=metrics)
    router = APIRouter(tags=["operations"])

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": metrics.service}

    @router.get("/ready")
    async def ready() -> JSONResponse:
        problems = []
        for check in ready_checks:
            try:
                await check()
            except Exception as exc:  # readiness reports the failure instead of raising it
                problems.append(f"{getattr(check, '__name__', 'check')}: {exc}")
        if problems:
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return swagger_page(title, "/openapi.json")

    @router.get("/docs/asyncapi")
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi()

    app.include_router(router)
    tracing.instrument_app(app)
    return app


def swagger_page(title: str, openapi_url: str) -> Response:
    """FastAPI's Swagger UI page with a Content-Security-Policy: its one inline script by hash,
    its bundle and stylesheet from the CDN FastAPI names, data fetched from this origin only,
    never framed. (Swagger UI styles elements inline, hence 'unsafe-inline' for styles only.)"""
    page = get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - API")
    html = bytes(page.body).decode()
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"
        for code in inline
    )
    csp = (
        "default-src 'none'; "
        f"script-src {SWAGGER_CDN} {hashes}; "
        f"style-src {SWAGGER_CDN} 'unsafe-inline'; "
        "img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


def service_token_guard(expected: str) -> Callable[..., Awaitable[None]]:
    """Dependency for internal routes: a shared service token header, compared in constant time."""

    async def guard(
        x_pulse_service_token: Annotated[str | None, Header()] = None,
    ) -> None:
        if not x_pulse_service_token or not hmac.compare_digest(
            x_pulse_service_token.encode(), expected.encode()
        ):
            raise ApiError(401, "internal route: missing or wrong X-Pulse-Service-Token")

    return guard


def internal_router(expected_token: str, **kwargs: Any) -> APIRouter:
    return APIRouter(dependencies=[Depends(service_token_guard(expected_token))], **kwargs)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing with 413 as soon as it passes `max_bytes` (no unbounded buffering)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, f"body is {declared} bytes; the limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, f"body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
