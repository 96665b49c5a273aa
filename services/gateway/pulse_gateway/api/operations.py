"""/api/runs, /api/rejected-items, /api/red-flags: what operators (owners, managers) see of the
data flowing in; ingest keeps it, the gateway asks (operations.py)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from pulse_contracts.internal.ingest import Resumed
from pulse_contracts.internal.ingest_operations import (
    RejectedPage,
    Replay,
    Replayed,
    RunDetail,
    RunPage,
)

from .. import peers
from ..deps import ContextDep, Manager
from ..operations import RunSource, RunStatus, health

router = APIRouter(tags=["operations"])


@router.get("/api/runs")
async def list_runs(
    ctx: ContextDep,
    caller: Manager,
    status: RunStatus | None = None,
    source: RunSource | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> RunPage:
    """n8n runs and Pulse's own pull batches, newest first, filtered by status and source."""
    return await peers.runs(
        ctx, caller.org_id, status=status, source=source, limit=limit, cursor=cursor
    )


@router.get("/api/runs/{run_id}")
async def get_run(ctx: ContextDep, caller: Manager, run_id: UUID) -> RunDetail:
    """A run with each post's outcome and each item ingest refused."""
    return await peers.run(ctx, caller.org_id, run_id)


@router.get("/api/rejected-items")
async def rejected_items(
    ctx: ContextDep,
    caller: Manager,
    code: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: int | None = None,
) -> RejectedPage:
    """Items still refused, newest first, with the raw item as received and why; `held` while
    an `unknown_post` item waits (24 h) for its post to be registered."""
    return await peers.rejected_items(ctx, caller.org_id, code=code, limit=limit, cursor=cursor)


@router.post("/api/rejected-items/replay")
async def replay(ctx: ContextDep, caller: Manager, body: Replay) -> Replayed:
    """Try kept items again once their cause is fixed: `applied` are stored now,
    `still_rejected` stay kept with their new reason."""
    return await peers.replay_rejected(ctx, caller.org_id, body.ids)


@router.get("/api/red-flags")
async def red_flags(ctx: ContextDep, caller: Manager) -> dict[str, Any]:
    """What needs an operator now, each flag with a link to what to do about it."""
    return await health(ctx, caller.org_id)


@router.post("/api/provider/resume")
async def resume_pulls(ctx: ContextDep, caller: Manager) -> Resumed:
    """Credits bought: Pulse's own pulls of the organization start again."""
    return await peers.resume_pulls(ctx, caller.org_id)
