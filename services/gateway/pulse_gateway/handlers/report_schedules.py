"""A campaign's scheduled client report: weekly or monthly, mailed to the client's addresses
with a fresh share link. The reporter keeps the schedule and its delivery log; these use cases
check the campaign is the organization's and hand the request over (the /api routes and the
Client report screen both call them)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from pulse_contracts import utcnow
from pulse_contracts.internal import reporter
from pulse_contracts.internal.reporter import Schedule, ScheduleAndLog, ScheduleDeleted

from .. import peers
from ..context import GatewayContext
from .campaigns import require_campaigns

MAX_RECIPIENTS = 20


class ScheduleIn(BaseModel):
    """`send_now`: the first report goes out at once rather than on the next Monday or 1st."""

    model_config = ConfigDict(extra="forbid")
    cadence: Literal["weekly", "monthly"]
    recipients: Annotated[list[EmailStr], Field(min_length=1, max_length=MAX_RECIPIENTS)]
    send_now: bool = False


async def save_schedule(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, body: ScheduleIn
) -> Schedule:
    await require_campaigns(ctx.pool, org_id, [campaign_id])
    asked = reporter.ScheduleIn(
        cadence=body.cadence,
        recipients=[str(r).lower() for r in dict.fromkeys(body.recipients)],
        first_due_at=utcnow() if body.send_now else None,  # None: the next Monday or 1st
    )
    return await peers.save_report_schedule(ctx, org_id, campaign_id, asked)


async def schedule_and_log(ctx: GatewayContext, org_id: UUID, campaign_id: UUID) -> ScheduleAndLog:
    """The schedule (null when none) and the delivery log: what was sent, when, to whom."""
    await require_campaigns(ctx.pool, org_id, [campaign_id])
    return await peers.report_schedule(ctx, org_id, campaign_id)


async def delete_schedule(ctx: GatewayContext, org_id: UUID, campaign_id: UUID) -> ScheduleDeleted:
    await require_campaigns(ctx.pool, org_id, [campaign_id])
    return await peers.delete_report_schedule(ctx, org_id, campaign_id)
