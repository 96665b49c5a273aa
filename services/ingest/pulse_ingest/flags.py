"""Red flags ingest can see for an organization: posts without fresh data, runs that failed or
ended partial in the last day, the provider paused (out of credits) or its circuit open, and
ingest's outbox lag. The gateway's Health screen adds the queues and links each to a remedy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final
from uuid import UUID

from pulse_runtime.db import Connection

from . import repository
from .repository import sql

STALE_AFTER: Final = timedelta(hours=24)
FAILING_STREAK: Final = 3  # design/kpis.md stale_data: ≥ 3 consecutive failed pulls
LIST_AT_MOST: Final = 50


async def red_flags(
    conn: Connection, org_id: UUID, *, now: datetime, open_circuits: list[str]
) -> dict[str, Any]:
    stale = await conn.fetch(
        sql.flags_stale_posts, org_id, STALE_AFTER, FAILING_STREAK, LIST_AT_MOST
    )
    runs = await conn.fetch(sql.flags_runs, org_id, now - timedelta(hours=24))
    state = await repository.provider_state(conn, org_id)
    lag = await conn.fetchval(sql.flags_outbox_lag)
    return {
        "stale_posts": [dict(r) for r in stale],
        "runs": [{**dict(r), "run_id": r["id"]} for r in runs],
        "provider": {
            "paused": bool(state and state["paused_at"]),
            "paused_reason": state["paused_reason"] if state else None,
            "paused_at": state["paused_at"] if state else None,
            "open_circuits": open_circuits,
        },
        "outbox_lag_s": float(lag or 0.0),
    }
