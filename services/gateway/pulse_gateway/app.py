"""Composition root of the gateway: runtime, peers, routers."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import pkgutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI

from pulse_contracts import Envelope, EventData, utcnow
from pulse_runtime.body_limit import BodyLimit
from pulse_runtime.direct_routes import serve_directly
from pulse_runtime.logging import get_logger
from pulse_runtime.media_proxy import MediaProxy
from pulse_runtime.messaging import (
    LARGE_MESSAGE_PREFETCH,
    subscribe_events,
    subscribe_events_with_body,
)
from pulse_runtime.rate_limit import RateLimiter, RateLimitHeaders, redis_client
from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.topology import QUEUES

from . import api, guards, pages, read_model, report_jobs
from .api import bookings, campaigns, imports, numbers, post_imports
from .context import GatewayContext
from .handlers import accounts
from .messages import NARROW
from .rate_limits import ApiLimits, OrganizationLimits
from .read_model import NumbersReadModel
from .security import JwtKeys
from .sessions import SessionCache
from .settings import GatewaySettings
from .stream import StreamHub, bind_more, stream_queue, subscribe_stream

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around an uploaded file
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
log = get_logger(__name__)
HOT_READS = [
    (campaigns.router, "/api/campaigns/{campaign_id}"),
    (bookings.router, "/api/campaigns/{campaign_id}/bookings"),
    (numbers.router, "/api/campaigns/{campaign_id}/daily"),
    (numbers.router, "/api/compare"),
]


def routers() -> list[APIRouter]:
    """Every `router` of the modules in pulse_gateway.api: one module per resource."""
    found = []
    for info in sorted(pkgutil.iter_modules(api.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{api.__name__}.{info.name}")
        if isinstance(router := getattr(module, "router", None), APIRouter):
            found.append(router)
    return found


def create_app(settings: GatewaySettings) -> FastAPI:
    runtime = ServiceRuntime(
        settings, queues=[QUEUES["gateway.numbers"], QUEUES["gateway.reports"]]
    )
    ctx = GatewayContext(
        settings=settings,
        runtime=runtime,
        jwt_keys=JwtKeys.parse(settings.jwt_keys.get_secret_value()),
        hub=StreamHub(),
        numbers=NumbersReadModel(
            settings.numbers_cache_size, max_bytes=settings.numbers_cache_mb * 2**20
        ),
        sessions=SessionCache(settings.session_cache_ttl_s),
    )
    live = stream_queue()
    subscribe_stream(runtime.broker, ctx.hub, live, ctx.numbers)

    freshness = runtime.metrics.freshness.labels("read_model")

    async def kpi_updated(envelope: Envelope[EventData], body: bytes) -> None:
        await read_model.on_kpi_updated(runtime.pool, ctx.numbers, envelope, body)
        # From the aggregator building the document to the read model holding it.
        freshness.observe((utcnow() - envelope.occurred_at).total_seconds())

    # A channel of its own with a small prefetch: each delivered document is decoded (~1.2 MB of
    # objects for a 130 KB one) and held while its row is written, so under load, with
    # PostgreSQL slow to answer, the shared prefetch of 32 had 32 of them in memory at once
    # (+36 MB of resident memory with the table locked 3 s in 10; P6).
    # Decoded only as far as the table needs (messages.py); stored as the text that came.
    subscribe_events_with_body(
        runtime.broker,
        QUEUES["gateway.numbers"],
        kpi_updated,
        prefetch=LARGE_MESSAGE_PREFETCH,
        narrow=NARROW,
    )

    async def report_progressed(envelope: Envelope[EventData]) -> None:
        await report_jobs.on_report_progressed(runtime.pool, envelope)

    subscribe_events(runtime.broker, QUEUES["gateway.reports"], report_progressed)

    @contextlib.asynccontextmanager
    async def peers() -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.peer_timeout_s)
        headers = {"X-Pulse-Service-Token": settings.service_token.get_secret_value()}
        await bind_more(runtime.broker, live)
        extra = [h.strip() for h in settings.media_extra_suffixes.split(",") if h.strip()]
        async with (
            httpx.AsyncClient(timeout=timeout, headers=headers) as client,
            # Never the peers' client: its default headers carry the service token.
            httpx.AsyncClient(trust_env=False) as media_client,
            redis_client(settings.redis_url, timeout_s=settings.redis_timeout_s) as redis,
        ):
            ctx.peers = client
            ctx.media = MediaProxy(http=media_client, extra_suffixes=extra)
            ctx.limits = ApiLimits(
                RateLimiter(
                    redis, prefix=settings.redis_key_prefix, counter=runtime.metrics.rate_limited
                ),
                OrganizationLimits(
                    settings.api_requests_per_minute, settings.api_limit_cache_ttl_s
                ),
            )
            yield
            ctx.peers = ctx.media = ctx.limits = None

    async def housekeeping(_: ServiceRuntime) -> None:
        """Expired sessions and sign-in links, and failed sign-ins past the login window, go;
        several replicas doing it at once only find less to delete."""
        while True:
            removed = await accounts.forget_expired(runtime.pool, settings, utcnow())
            if removed:
                log.info("expired sign-in records removed", rows=removed)
            await asyncio.sleep(settings.housekeeping_interval_s)

    app = runtime.http_app("Pulse gateway", loops=[("housekeeping", housekeeping)], resources=peers)
    # The CSV uploads keep their own caps (multipart: the file plus its boundaries).
    uploads = {
        "/api/imports/metrics": imports.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD,
        "/api/imports/posts": post_imports.MAX_BYTES + MULTIPART_OVERHEAD,
    }
    app.add_middleware(guards.CredentialsBeforeLargeBodies, paths=frozenset(uploads))
    app.add_middleware(BodyLimit, default=guards.JSON_BODY_LIMIT, routes=uploads)
    app.add_middleware(guards.ApiHeaders)
    app.add_middleware(RateLimitHeaders)
    for router in routers():
        app.include_router(router)
    pages.install(app)  # the staff dashboard and its static files

    @app.get("/api/health", tags=["operations"])
    async def api_health() -> dict[str, str]:
        return {"status": "ok", "service": "gateway"}

    # The reads a dashboard makes most, answered without FastAPI's routing: it matches every
    # router's routes in turn (twice for the one it picks), about a quarter of a read's CPU
    # under bench P3. Their dependencies and parameters are still solved by FastAPI
    # (pulse_runtime/direct_routes.py); every route must be declared before this.
    for router, path in HOT_READS:
        serve_directly(app, router, "GET", path)

    app.state.gateway = ctx
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(GatewaySettings, create_app, MIGRATIONS)
