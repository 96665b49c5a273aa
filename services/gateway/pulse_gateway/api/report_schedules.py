"""A campaign's scheduled client report: weekly or monthly, mailed to the client's addresses
with the share link. The reporter keeps the schedule and its delivery log."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from pulse_contracts import utcnow
from pulse_runtime.errors import ApiError

from .. import peers
from ..db import org_transaction
from ..deps import ContextDep, Manager, Reader
from ..repository import sql

router = APIRouter(tags=["reports"])


class ScheduleIn(BaseModel):
    """`send_now`: the first report goes out at once rather than on the next Monday or 1st."""

    model_config = ConfigDict(extra="forbid")
    cadence: Literal["weekly", "monthly"]
    recipients: Annotated[list[EmailStr], Field(min_length=1, max_length=20)]
    send_now: bool = False


async def _own_campaign(ctx: ContextDep, org_id: UUID, campaign_id: UUID) -> None:
    """Another organization's campaign answers like a missing one (row-level security)."""
    async with org_transaction(ctx.pool, org_id) as conn:
        if not await conn.fetch(sql.report_campaigns, org_id, [campaign_id]):
            raise ApiError(404, f"no campaign {campaign_id}")


@router.put("/api/campaigns/{campaign_id}/report-schedule")
async def save_schedule(
    ctx: ContextDep, caller: Manager, campaign_id: UUID, body: ScheduleIn
) -> dict[str, Any]:
    await _own_campaign(ctx, caller.org_id, campaign_id)
    payload: dict[str, Any] = {
        "cadence": body.cadence,
        "recipients": [str(r).lower() for r in dict.fromkeys(body.recipients)],
    }
    if body.send_now:
        payload["first_due_at"] = utcnow().isoformat()
    saved: dict[str, Any] = await peers.report_schedule(
        ctx, caller.org_id, campaign_id, "PUT", json=payload
    )
    return saved


@router.get("/api/campaigns/{campaign_id}/report-schedule")
async def get_schedule(ctx: ContextDep, caller: Reader, campaign_id: UUID) -> dict[str, Any]:
    """The schedule (null when none) and the delivery log: what was sent, when, to whom."""
    await _own_campaign(ctx, caller.org_id, campaign_id)
    found: dict[str, Any] = await peers.report_schedule(ctx, caller.org_id, campaign_id, "GET")
    return found


@router.delete("/api/campaigns/{campaign_id}/report-schedule")
async def delete_schedule(ctx: ContextDep, caller: Manager, campaign_id: UUID) -> dict[str, Any]:
    await _own_campaign(ctx, caller.org_id, campaign_id)
    found: dict[str, Any] = await peers.report_schedule(ctx, caller.org_id, campaign_id, "DELETE")
    return found
