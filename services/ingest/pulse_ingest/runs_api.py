"""Routes of runs: n8n opens and completes its runs (ingest token); the gateway lists them
with their items, and replays kept items (internal)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query

from pulse_contracts.internal.ingest_operations import (
    RedFlags,
    Replay,
    Replayed,
    RunDetail,
    RunPage,
)
from pulse_runtime.db import PoolGetter
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router

from . import flags, handlers, held, runs
from . import runs_repository as rr
from .rate_limits import TokenLimits
from .run_rules import Completion, OpenRun, RunSource, RunStatus
from .scheduler import Clock
from .tokens import TokenCache


def runs_router(
    pool: PoolGetter,
    *,
    tokens: TokenCache,
    clock: Clock,
    wake_relay: Callable[[], None],
    limits: TokenLimits | None = None,
) -> APIRouter:
    router = APIRouter(tags=["ingest"], dependencies=[Depends(limits)] if limits else [])

    async def organization(authorization: str | None, x_pulse_key: str | None) -> UUID:
        token = x_pulse_key
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip() or token
        org_id = await handlers.authenticate(pool(), token, tokens)
        if org_id is None:
            raise ApiError(
                401, "missing or unknown ingest token (Authorization: Bearer or X-Pulse-Key)"
            )
        return org_id

    @router.post("/api/ingest/runs", status_code=201)
    async def open_run(
        body: OpenRun | None = None,
        authorization: Annotated[str | None, Header()] = None,
        x_pulse_key: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Open a run (n8n's first step): its items then carry `X-Pulse-Run: <run_id>` (HTTP) or
        the `x-pulse-run` header (AMQP), and the workflow completes it with each post's outcome.
        A run not completed within PULSE_INGEST_RUN_TIMEOUT_S fails as `timed_out`."""
        org_id = await organization(authorization, x_pulse_key)
        now = clock.now()
        run_id = await runs.open_run(pool(), org_id=org_id, body=body or OpenRun(), now=now)
        return {"run_id": run_id, "status": "pending", "started_at": now}

    @router.post("/api/ingest/runs/{run_id}/complete")
    async def complete_run(
        run_id: UUID,
        body: Completion,
        authorization: Annotated[str | None, Header()] = None,
        x_pulse_key: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Complete a run with each post's outcome (`ok`, or `failed` with the provider's code,
        message and HTTP status). Status: `success` (all ok), `failed` (none), `partial` (a
        mix). A second call changes nothing and answers the run as it is; an outcome naming no
        post of the organization is refused on its own (`rejected_outcomes`)."""
        org_id = await organization(authorization, x_pulse_key)
        try:
            result = await runs.complete_run(
                pool(), org_id=org_id, run_id=run_id, body=body, now=clock.now()
            )
        except runs.RunNotFound as exc:
            raise ApiError(404, f"no run {run_id} in this organization") from exc
        wake_relay()
        return result

    return router


def runs_internal(
    pool: PoolGetter,
    service_token: str,
    *,
    clock: Clock,
    wake_relay: Callable[[], None],
    open_circuits: Callable[[], list[str]] = list,
) -> APIRouter:
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])

    @router.get("/runs", response_model=RunPage)
    async def list_runs(
        org_id: UUID,
        status: RunStatus | None = None,
        source: RunSource | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """n8n runs and Pulse's own pull batches, newest first; `cursor` is the last page's
        `next_cursor`."""
        before = _cursor(cursor)
        async with pool().acquire() as conn:
            rows = await rr.list_runs(
                conn, org_id=org_id, limit=limit, status=status, source=source, before=before
            )
        items = [runs.summary(r) for r in rows]
        next_cursor = (
            f"{rows[-1]['started_at'].isoformat()}|{rows[-1]['id']}" if len(rows) == limit else None
        )
        return {"items": items, "next_cursor": next_cursor}

    @router.get("/runs/{run_id}", response_model=RunDetail)
    async def run_detail(
        org_id: UUID, run_id: UUID, limit: Annotated[int, Query(ge=1, le=5000)] = 1000
    ) -> dict[str, Any]:
        """The run, each post's outcome and each item ingest refused."""
        async with pool().acquire() as conn:
            row = await rr.get_run(conn, run_id, org_id)
            if row is None:
                raise ApiError(404, f"no run {run_id} in this organization")
            items = await rr.run_items(conn, run_id, limit)
        return {**runs.summary(row), "items": [dict(i) for i in items]}

    @router.get("/red-flags", response_model=RedFlags)
    async def red_flags(org_id: UUID) -> dict[str, Any]:
        """What needs an operator: stale posts, failed or partial runs (24 h), the provider
        paused or its circuit open, ingest's outbox lag."""
        async with pool().acquire() as conn:
            return await flags.red_flags(
                conn, org_id, now=clock.now(), open_circuits=open_circuits()
            )

    @router.post("/rejected-items/replay", response_model=Replayed)
    async def replay(org_id: UUID, body: Replay) -> dict[str, Any]:
        """Try kept items again, after fixing their cause (the post registered, the token
        replaced…): `applied` are stored now; `still_rejected` stay kept with the new reason.
        Ids that are not the organization's, or already applied, are left out."""
        async with pool().acquire() as conn, conn.transaction():
            done = await held.replay(
                conn, org_id=org_id, ids=body.ids, now=clock.now(), store=handlers.store_items
            )
        wake_relay()
        return done.as_response()

    return router


def _cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    try:
        started, run_id = cursor.split("|", 1)
        return datetime.fromisoformat(started), UUID(run_id)
    except ValueError as exc:
        raise ApiError(400, "cursor is not one this API gave out") from exc
