"""What operators (owners, managers) see of the data flowing in: runs, rejected items, the
webhook signing secrets (kept by ingest, never here), and the red flags of the Health screen.

Everything but the queue depths is ingest's: the gateway asks it over internal HTTP. A red
flag says what is wrong, how much, and links to what to do about it.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from pulse_contracts.internal.ingest_operations import RedFlags, RunSource, RunStatus
from pulse_runtime.topology import QUEUES

from . import peers
from .context import GatewayContext

__all__ = [
    "BACKLOG_AT",
    "OUTBOX_LAG_AT_S",
    "RedFlag",
    "RunSource",
    "RunStatus",
    "health",
    "red_flags",
]

# A queue with more waiting than this is a backlog worth a look (a burst drains in seconds).
BACKLOG_AT: Final = 1000
OUTBOX_LAG_AT_S: Final = 60.0


@dataclass(frozen=True)
class RedFlag:
    key: str
    severity: str  # "critical" | "warning"
    title: str
    detail: str
    count: int
    href: str  # where to act
    remedy: str  # what to do, in a sentence


def red_flags(ingest_flags: RedFlags, depths: dict[str, int | None]) -> list[RedFlag]:
    """The flags raised by ingest's view and the queue depths (pure: tests feed it)."""
    flags: list[RedFlag] = []
    stale = ingest_flags.stale_posts
    if stale:
        first = stale[0]
        why = first.last_error_code or "no data yet"
        flags.append(
            RedFlag(
                "stale_posts",
                "warning",
                "Posts without fresh data",
                f"{len(stale)} tracked post(s) with no successful pull for 24 h or failing "
                f"3 times in a row (e.g. {first.url}: {why})",
                len(stale),
                f"/campaigns/{first.campaign_id}",
                "Open the campaign: check the post URL is public and right, then refresh it.",
            )
        )
    for status, severity in (("failed", "critical"), ("partial", "warning")):
        mine = [r for r in ingest_flags.runs if r.status == status]
        if mine:
            reasons = sorted({r.reason or "provider errors" for r in mine})
            flags.append(
                RedFlag(
                    f"runs_{status}",
                    severity,
                    f"Runs {status} in the last 24 h",
                    f"{len(mine)} run(s) {status} ({', '.join(reasons)})",
                    len(mine),
                    f"/runs?status={status}",
                    "Open the run: each failing post shows the provider's error; fix the post "
                    "or the workflow, and see the rejected items.",
                )
            )
    provider = ingest_flags.provider
    if provider.paused:
        flags.append(
            RedFlag(
                "out_of_credits",
                "critical",
                "ScrapeCreators is out of credits",
                "Pulse's own pulls are paused since "
                f"{_iso(provider.paused_at)} ({provider.paused_reason})",
                1,
                "/red-flags#provider",
                "Buy ScrapeCreators credits, then resume pulls here (they also resume at the next "
                "balance check that finds credits).",
            )
        )
    circuits = provider.open_circuits
    if circuits:
        flags.append(
            RedFlag(
                "circuit_open",
                "warning",
                "Provider circuit open",
                f"calls to {', '.join(circuits)} are paused after repeated failures",
                len(circuits),
                "/docs/architecture",
                "Wait a minute for the trial call; if it keeps opening, the provider is down "
                "for that platform.",
            )
        )
    dead = {name: n for name, n in depths.items() if name.endswith(".dlq") and n is not None and n}
    if dead:
        flags.append(
            RedFlag(
                "dlq",
                "critical",
                "Messages in dead-letter queues",
                ", ".join(f"{name}: {n}" for name, n in sorted(dead.items())),
                sum(dead.values()),
                "/docs/architecture",
                "A message failed every retry: read the service's log for it, fix the cause, "
                "then move the messages back (RabbitMQ shovel) or purge them.",
            )
        )
    backlog = {
        name: n
        for name, n in depths.items()
        if not name.endswith(".dlq") and n is not None and n > BACKLOG_AT
    }
    if backlog:
        flags.append(
            RedFlag(
                "backlog",
                "warning",
                "Queue backlog",
                ", ".join(f"{name}: {n}" for name, n in sorted(backlog.items())),
                sum(backlog.values()),
                "/docs/architecture",
                "A consumer is slow or down: check that service's readiness and log.",
            )
        )
    lag = ingest_flags.outbox_lag_s
    if lag > OUTBOX_LAG_AT_S:
        flags.append(
            RedFlag(
                "outbox_lag",
                "warning",
                "Ingest's events are late",
                f"the oldest unpublished event has waited {lag:.0f} s",
                1,
                "/docs/architecture",
                "Check RabbitMQ and ingest's readiness: new numbers reach the dashboard once "
                "the events are published.",
            )
        )
    return flags


def _iso(moment: datetime | None) -> str | None:
    """As ingest's JSON writes it: the detail reads the same as before the answer was typed."""
    return moment.isoformat() if moment else None


async def health(ctx: GatewayContext, org_id: UUID) -> dict[str, Any]:
    # The queue probe lives with the architecture screen, which shows the same depths.
    from .pages.architecture import _queue_depths

    found, depths = await asyncio.gather(peers.red_flags(ctx, org_id), _queue_depths(ctx))
    flags = red_flags(found, depths)
    # Ingest's part as it served it: /api/red-flags passes it on unchanged.
    served = found.model_dump(mode="json")
    return {
        "flags": [asdict(f) for f in flags],
        "stale_posts": served["stale_posts"],
        "runs": served["runs"],
        "provider": served["provider"],
        "outbox_lag_s": served["outbox_lag_s"],
        "queues": {
            spec.name: {"ready": depths.get(spec.name), "dead": depths.get(spec.dlq_name)}
            for spec in QUEUES.values()
        },
    }
