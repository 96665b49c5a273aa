"""reporter's internal routes: a finished job's file, for the requester that owns the job;
a campaign's report schedule and its delivery log, for the gateway."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from pulse_contracts import utcnow
from pulse_contracts.internal.reporter import (
    Schedule,
    ScheduleAndLog,
    ScheduleDeleted,
    ScheduleIn,
)
from pulse_runtime.db import PoolGetter
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router

from . import domain, repository, schedule_repository


def internal_routes(pool: PoolGetter, service_token: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])

    @router.get("/reports/{job_id}/file", response_class=Response)
    async def report_file(org_id: UUID, job_id: UUID) -> Response:
        """The file while it is kept; the gateway and share check their caller first."""
        async with pool().acquire() as conn:
            found = await repository.get_file(conn, job_id=job_id, org_id=org_id, now=utcnow())
        if found is None:
            raise ApiError(404, f"no report file for job {job_id} (never made, or expired)")
        return Response(
            found.content,
            media_type=found.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{found.filename}"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return router


def schedule_routes(pool: PoolGetter, service_token: str) -> APIRouter:
    router = internal_router(
        service_token, prefix="/internal/orgs/{org_id}/campaigns/{campaign_id}", tags=["internal"]
    )

    @router.put("/report-schedule", response_model=Schedule)
    async def save_schedule(org_id: UUID, campaign_id: UUID, body: ScheduleIn) -> dict[str, Any]:
        due = body.first_due_at or domain.first_due(body.cadence, utcnow())
        async with pool().acquire() as conn:
            return await schedule_repository.save(
                conn,
                org_id=org_id,
                campaign_id=campaign_id,
                cadence=body.cadence,
                recipients=body.recipients,
                next_due_at=due,
            )

    @router.get("/report-schedule", response_model=ScheduleAndLog)
    async def get_schedule(org_id: UUID, campaign_id: UUID) -> dict[str, Any]:
        """The schedule (or null) and its delivery log: what was sent, when, to whom."""
        async with pool().acquire() as conn:
            found = await schedule_repository.get(conn, org_id=org_id, campaign_id=campaign_id)
            log = await schedule_repository.deliveries(conn, org_id=org_id, campaign_id=campaign_id)
        return {"schedule": found, "deliveries": log}

    @router.delete("/report-schedule", response_model=ScheduleDeleted)
    async def delete_schedule(org_id: UUID, campaign_id: UUID) -> dict[str, bool]:
        async with pool().acquire() as conn:
            deleted = await schedule_repository.delete(conn, org_id=org_id, campaign_id=campaign_id)
        return {"deleted": deleted}

    return router
