"""A campaign's scheduled client report: weekly or monthly, mailed to the client's addresses
with a fresh share link. The reporter keeps the schedule and its delivery log; these use cases
check the campaign is the organization's and hand the request over (the /api routes and the
Client report screen both call them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from pulse_contracts import utcnow

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
) -> dict[str, Any]:
    await require_campaigns(ctx.pool, org_id, [campaign_id])
    payload: dict[str, Any] = {
        "cadence": body.cadence,
        "recipients": [str(r).lower() for r in dict.fromkeys(body.recipients)],
    }
    if body.send_now:
        payload["first_due_at"] = utcnow().isoformat()
    saved: dict[str, Any] = await peers.report_schedule(
        ctx, org_id, campaign_id, "PUT", json=payload
    )
    return saved


async def schedule_and_log(ctx: GatewayContext, org_id: UUID, campaign_id: UUID) -> dict[str, Any]:
    """The schedule (null when none) and the delivery log: what was sent, when, to whom."""
    await require_campaigns(ctx.pool, org_id, [campaign_id])
    found: dict[str, Any] = await peers.report_schedule(ctx, org_id, campaign_id, "GET")
    return found


async def delete_schedule(ctx: GatewayContext, org_id: UUID, campaign_id: UUID) -> dict[str, Any]:
    await require_campaigns(ctx.pool, org_id, [campaign_id])
    found: dict[str, Any] = await peers.report_schedule(ctx, org_id, campaign_id, "DELETE")
    return found
