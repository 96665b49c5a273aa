"""/api/alerts: the alerter's alerts of the caller's organization, read and resolved through it."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from pulse_contracts.internal.alerter import AlertPage, AlertWithHistory, BulkResolveAnswer
from pulse_contracts.values import AlertType, Severity

from .. import peers
from ..deps import Analyst, ContextDep, Reader

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


class BulkResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[UUID] = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


@router.get("")
async def list_alerts(
    ctx: ContextDep,
    caller: Reader,
    status: Literal["open", "resolved"] | None = None,
    type: AlertType | None = None,
    severity: Severity | None = None,
    campaign_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AlertPage:
    """Newest first; `next_cursor` continues the list."""
    filters = {
        "status": status,
        "type": type,
        "severity": severity,
        "campaign_id": str(campaign_id) if campaign_id else None,
        "cursor": cursor or None,
    }
    params = {"limit": str(limit), **{k: v for k, v in filters.items() if v is not None}}
    return await peers.alerts(ctx, caller.org_id, params)


@router.post("/resolve")
async def resolve_alerts(
    ctx: ContextDep, caller: Analyst, body: BulkResolveIn
) -> BulkResolveAnswer:
    """Resolve up to 200 alerts with one note. All or nothing: when an id is not one of the
    organization's alerts (another organization's answer as missing), the 404 lists each such
    id under `details` and nothing is resolved. Otherwise `items` holds, per id, `resolved` or
    `already_resolved` and the alert as it now is."""
    return await peers.resolve_alerts(
        ctx, caller.org_id, body.ids, user_id=caller.user_id, note=body.note
    )


@router.get("/{alert_id}")
async def get_alert(ctx: ContextDep, caller: Reader, alert_id: UUID) -> AlertWithHistory:
    """The alert with its history: every raise, escalation and resolution."""
    return await peers.alert(ctx, caller.org_id, alert_id)


@router.post("/{alert_id}/resolve")
async def resolve_alert(
    ctx: ContextDep, caller: Analyst, alert_id: UUID, body: ResolveIn | None = None
) -> AlertWithHistory:
    """Resolve by hand (any person; API tokens only read); resolving twice changes nothing."""
    note = body.note if body else None
    return await peers.resolve_alert(
        ctx, caller.org_id, alert_id, user_id=caller.user_id, note=note
    )
