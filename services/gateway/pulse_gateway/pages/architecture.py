"""/docs/architecture: the services, the events between them and who owns which data, with each
service's live readiness and each queue's depth (refreshed every 5 s)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import Request, Response

from pulse_contracts.envelope import REGISTRY
from pulse_contracts.internal.ingest import RefusedMessages
from pulse_runtime.errors import ApiError
from pulse_runtime.logging import get_logger
from pulse_runtime.topology import QUEUES

from .. import peers
from ..context import GatewayContext
from ..deps import ContextDep
from .common import ViewerDep, page_router, render

router = page_router()
log = get_logger(__name__)

READY_TIMEOUT_S = 1.0
QUEUE_TIMEOUT_S = 1.5

# design/README.md, "The shape": what each service owns, consumes and publishes.
SERVICES: list[dict[str, str]] = [
    {
        "name": "gateway",
        "role": "Dashboard, staff API and live stream",
        "owns": "catalog: organizations, users, API tokens, clients, campaigns, influencers, "
        "handles, bookings, audit log",
        "consumes": "kpi.updated, alert.* (for the live stream)",
        "publishes": "catalog.*",
        "http": "dashboard pages, staff API, SSE",
    },
    {
        "name": "ingest",
        "role": "Pulls and stores every post's public metrics",
        "owns": "ingest: tracked posts, metric samples (append-only), pull runs, rejected items",
        "consumes": "catalog.*, fetch commands",
        "publishes": "post.pulled, post.pull_failed",
        "http": "n8n webhook, CSV import, internal reads",
    },
    {
        "name": "aggregator",
        "role": "Turns samples into daily series and KPIs",
        "owns": "aggregator: reference copies, post latest, post daily, booking and campaign "
        "KPI snapshots, daily series",
        "consumes": "catalog.*, post.pulled",
        "publishes": "kpi.updated",
        "http": "internal reads",
    },
    {
        "name": "alerter",
        "role": "Raises, debounces and notifies alerts",
        "owns": "alerter: reference copies, alerts, alert history, notification channels",
        "consumes": "catalog.*, kpi.updated, post.pulled, post.pull_failed",
        "publishes": "alert.raised, alert.resolved",
        "http": "internal reads and resolve",
    },
    {
        "name": "share",
        "role": "The client's redacted read-only view",
        "owns": "share: share links, access log, redacted campaign projection",
        "consumes": "catalog.*, kpi.updated",
        "publishes": "—",
        "http": "public client view, JSON, PDF",
    },
    {
        "name": "reporter",
        "role": "Renders reports (PDF, CSV, XLSX) off the request path",
        "owns": "reporter: report jobs, rendered files (with retention), render starts",
        "consumes": "report.requested",
        "publishes": "report.progressed",
        "http": "internal downloads",
    },
]
PUBLISHERS = {
    "catalog": "gateway",
    "post": "ingest",
    "kpi": "aggregator",
    "alert": "alerter",
    "report.requested": "gateway, share",
    "report.progressed": "reporter",
}


def _events() -> list[dict[str, Any]]:
    events = []
    for (event_type, version), model in sorted(REGISTRY.items()):
        doc = (model.__doc__ or "").strip().splitlines()
        consumers = sorted(
            {
                spec.name.split(".")[0]
                for spec in QUEUES.values()
                if any(_binds(key, event_type) for key in spec.bindings)
            }
        )
        events.append(
            {
                "type": event_type,
                "version": version,
                "summary": doc[0] if doc else "",
                "publisher": PUBLISHERS.get(
                    event_type, PUBLISHERS.get(event_type.split(".")[0], "—")
                ),
                "consumers": consumers,
                "fields": list(model.model_fields),
            }
        )
    return events


def _binds(binding: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` is one word, `#` any number of words."""
    pattern, words = binding.split("."), routing_key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(words)
        if pattern[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(words) + 1))
        return j < len(words) and pattern[i] in ("*", words[j]) and match(i + 1, j + 1)

    return match(0, 0)


@router.get("/docs/architecture")
async def architecture_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    live = await _live(ctx)
    return render(
        request,
        "architecture.html",
        services=SERVICES,
        events=_events(),
        **live,
    )


@router.get("/docs/architecture/live")
async def architecture_live(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """Readiness and queue depths alone, for the 5-second refresh."""
    return render(request, "architecture_live.html", **await _live(ctx))


async def _live(ctx: GatewayContext) -> dict[str, Any]:
    health, depths, refused = await asyncio.gather(_health(ctx), _queue_depths(ctx), _refused(ctx))
    bindings = {
        spec.name: f"{spec.exchange.name} · {', '.join(spec.bindings)}" for spec in QUEUES.values()
    }
    return {"health": health, "depths": depths, "bindings": bindings, "refused": refused}


async def _refused(ctx: GatewayContext) -> RefusedMessages | None:
    """n8n messages ingest refused for their key (docs/ingest-operations.md); None when ingest
    cannot say right now (its health line already tells why)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            return await peers.refused_messages(ctx)
    except (ApiError, TimeoutError):
        return None


async def _health(ctx: GatewayContext) -> dict[str, dict[str, Any]]:
    """Each service's /ready (the gateway checks its own database and broker directly)."""
    settings = ctx.settings
    peers = {
        "ingest": settings.ingest_url,
        "aggregator": settings.aggregator_url,
        "alerter": settings.alerter_url,
        "share": settings.share_url,
        "reporter": settings.reporter_url,
    }
    results = await asyncio.gather(
        _own_health(ctx), *(_peer_ready(ctx, url) for url in peers.values())
    )
    return dict(zip(["gateway", *peers], results, strict=True))


async def _own_health(ctx: GatewayContext) -> dict[str, Any]:
    started = time.perf_counter()
    problems = []
    for check in (ctx.runtime.check_database, ctx.runtime.check_broker):
        try:
            await asyncio.wait_for(check(), READY_TIMEOUT_S)
        except Exception as exc:  # readiness shows the failure rather than raising it
            problems.append(f"{check.__name__}: {exc or type(exc).__name__}")
    return {
        "ready": not problems,
        "detail": "; ".join(problems) or "ready",
        "ms": (time.perf_counter() - started) * 1000,
    }


async def _peer_ready(ctx: GatewayContext, base_url: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        response = await ctx.http.get(f"{base_url}/ready", timeout=READY_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return {"ready": False, "detail": f"no answer ({type(exc).__name__})", "ms": None}
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code == 200:
        return {"ready": True, "detail": "ready", "ms": elapsed}
    try:
        problems = "; ".join(response.json().get("problems", [])) or f"HTTP {response.status_code}"
    except ValueError:
        problems = f"HTTP {response.status_code}"
    return {"ready": False, "detail": problems, "ms": elapsed}


async def _queue_depths(ctx: GatewayContext) -> dict[str, int | None]:
    """Messages waiting in every topology queue and its DLQ, by passive declaration on a
    channel of its own (a missing queue closes that channel, never the gateway's publishing
    one). None where the broker could not say."""
    names = [n for spec in QUEUES.values() for n in (spec.name, spec.dlq_name)]
    depths: dict[str, int | None] = dict.fromkeys(names)
    connection = getattr(ctx.runtime.broker, "_connection", None)
    if connection is None or connection.is_closed:
        return depths
    channel = None
    try:
        async with asyncio.timeout(QUEUE_TIMEOUT_S):
            for name in names:
                if channel is None or channel.is_closed:
                    channel = await connection.channel(publisher_confirms=False)
                try:
                    queue = await channel.declare_queue(name, passive=True)
                except Exception:  # that queue is missing: leave it unknown, carry on
                    channel = None
                    continue
                depths[name] = queue.declaration_result.message_count
    except Exception as exc:  # the broker is slow or gone: the page says unknown
        log.warning("queue depths unavailable", error=str(exc))
    finally:
        if channel is not None and not channel.is_closed:
            await channel.close()
    return depths
