"""/api/campaigns/{id}/report-schedule: the campaign's scheduled client report and its
delivery log (handlers/report_schedules.py; the reporter keeps both)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from pulse_contracts.internal.reporter import Schedule, ScheduleAndLog, ScheduleDeleted

from ..deps import ContextDep, Manager, Reader
from ..handlers import report_schedules as handlers
from ..handlers.report_schedules import ScheduleIn

router = APIRouter(tags=["reports"])


@router.put("/api/campaigns/{campaign_id}/report-schedule")
async def save_schedule(
    ctx: ContextDep, caller: Manager, campaign_id: UUID, body: ScheduleIn
) -> Schedule:
    return await handlers.save_schedule(ctx, caller.org_id, campaign_id, body)


@router.get("/api/campaigns/{campaign_id}/report-schedule")
async def get_schedule(ctx: ContextDep, caller: Reader, campaign_id: UUID) -> ScheduleAndLog:
    """The schedule (null when none) and the delivery log: what was sent, when, to whom."""
    return await handlers.schedule_and_log(ctx, caller.org_id, campaign_id)


@router.delete("/api/campaigns/{campaign_id}/report-schedule")
async def delete_schedule(ctx: ContextDep, caller: Manager, campaign_id: UUID) -> ScheduleDeleted:
    return await handlers.delete_schedule(ctx, caller.org_id, campaign_id)
