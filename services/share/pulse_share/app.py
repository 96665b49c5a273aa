"""Composition root of share: runtime, consumers, the public and internal routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from pulse_runtime.body_limit import BodyLimit
from pulse_runtime.direct_routes import serve_directly
from pulse_runtime.media_proxy import MediaProxy
from pulse_runtime.operator_routes import OperatorRoutesOnly, parse_networks
from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.topology import QUEUES

from .api import internal_links
from .consumer import QUEUE_NAMES, register_consumers
from .links import unlock_key
from .public import Limits, PublicConfig, SecurityHeaders, public_routes
from .ratelimit import Rate, TokenBuckets
from .scheduled import scheduled_routes
from .settings import ShareSettings

JSON_BODY_LIMIT = 1024 * 1024  # no public route takes more; the unlock form reads 4 KB at most
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(settings: ShareSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, queues=[QUEUES[name] for name in QUEUE_NAMES])
    register_consumers(runtime)
    proxy: list[MediaProxy] = []  # the one proxy, while the app runs
    reporter: list[httpx.AsyncClient] = []  # the reporter's client, while the app runs

    @contextlib.asynccontextmanager
    async def media_proxy() -> AsyncIterator[None]:
        extra = [h.strip() for h in settings.media_extra_suffixes.split(",") if h.strip()]
        # A client of its own: no base URL, no default headers, no cookies from anywhere.
        token = {"X-Pulse-Service-Token": settings.service_token.get_secret_value()}
        async with (
            httpx.AsyncClient(trust_env=False) as client,
            # Never the media proxy's client: this one's default headers carry the token.
            httpx.AsyncClient(
                trust_env=False, headers=token, timeout=settings.reporter_timeout_s
            ) as internal,
        ):
            proxy.append(MediaProxy(http=client, extra_suffixes=extra))
            reporter.append(internal)
            try:
                yield
            finally:
                proxy.clear()
                reporter.clear()

    app = runtime.http_app("Pulse share", loops=[], resources=media_proxy)
    app.add_middleware(BodyLimit, default=JSON_BODY_LIMIT)
    app.add_middleware(
        OperatorRoutesOnly,
        networks=parse_networks(settings.metrics_networks, "PULSE_SHARE_METRICS_NETWORKS"),
    )
    app.add_middleware(SecurityHeaders)

    secret = settings.service_token.get_secret_value()
    limits = Limits(
        per_address=TokenBuckets(Rate(settings.rate_address_burst, settings.rate_address_per_s)),
        per_link=TokenBuckets(Rate(settings.rate_link_burst, settings.rate_link_per_s)),
        unlock_per_link=TokenBuckets(Rate(settings.rate_unlock_burst, settings.rate_unlock_per_s)),
    )
    config = PublicConfig(
        unlock_key=unlock_key(secret),
        unlock_ttl=timedelta(seconds=settings.unlock_ttl_s),
        secure_cookies=settings.env == "production",
        reporter_url=settings.reporter_url,
    )

    def media() -> MediaProxy | None:
        return proxy[0] if proxy else None

    def reporter_client() -> httpx.AsyncClient | None:
        return reporter[0] if reporter else None

    public = public_routes(runtime.get_pool, limits, config, media, reporter_client)
    app.include_router(public)
    app.include_router(internal_links(runtime.get_pool, secret, settings.public_url))
    app.include_router(scheduled_routes(runtime.get_pool, secret, settings.public_url))
    # The public JSON is the route clients poll: answered without FastAPI's routing, which was
    # about a third of a view's CPU (pulse_runtime/direct_routes.py; bench P5).
    serve_directly(app, public, "GET", "/api/share/{token}")
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(ShareSettings, create_app, MIGRATIONS)
