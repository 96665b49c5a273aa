"""/api/campaigns: what clients bought, listed with their KPI summaries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from pulse_contracts.values import CampaignStatus
from pulse_runtime.errors import ApiError

from .. import numbers
from ..db import decode_cursor, org_read, org_transaction, page
from ..deps import ContextDep, Manager, PoolDep, Reader
from ..handlers import campaigns as handlers
from ..handlers.campaigns import CampaignIn, CampaignPatch
from ..http_cache import etagged_json
from ..repository import campaigns as repo

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


class CampaignOut(BaseModel):
    id: UUID
    client_id: UUID
    client_name: str | None
    name: str
    status: CampaignStatus
    start_date: date
    end_date: date
    budget_cents: int | None
    currency: str
    committed_views: int | None
    committed_engagement: int | None
    notes: str
    created_at: datetime
    updated_at: datetime


class CampaignWithKpis(CampaignOut):
    kpis: dict[str, Any] | None  # the campaign KPI snapshot (kpis.md); null before computed


class CampaignPage(BaseModel):
    items: list[CampaignWithKpis]
    next_cursor: str | None


@router.get("", response_model=CampaignPage)
async def list_campaigns(
    request: Request,
    ctx: ContextDep,
    caller: Reader,
    status: CampaignStatus | None = None,
    client_id: UUID | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Response:
    """Newest first; `q` searches names case-insensitively."""
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        rows = await repo.list_campaigns(
            conn,
            org_id=caller.org_id,
            status=status,
            client_id=client_id,
            q=q,
            after=decode_cursor(cursor),
            limit=limit + 1,
        )
    result = page(rows, limit)
    summaries = await numbers.campaign_summaries(
        ctx, caller.org_id, [row["id"] for row in result["items"]]
    )
    result["items"] = [{**row, "kpis": summaries.get(row["id"])} for row in result["items"]]
    return etagged_json(request, result, CampaignPage)


@router.post("", response_model=CampaignOut, status_code=201)
async def create_campaign(pool: PoolDep, caller: Manager, body: CampaignIn) -> dict[str, Any]:
    return await handlers.create_campaign(pool, caller, body.model_dump())


@router.get("/{campaign_id}", response_model=CampaignWithKpis)
async def get_campaign(
    request: Request, ctx: ContextDep, caller: Reader, campaign_id: UUID
) -> Response:
    """The campaign with its KPI snapshot (kpis.md), and nothing else of its numbers."""
    async with org_read(ctx.pool, caller.org_id) as conn:
        row = await repo.read_campaign(conn, org_id=caller.org_id, campaign_id=campaign_id)
    if row is None:
        raise ApiError(404, f"no campaign {campaign_id}")
    doc = await numbers.campaign_numbers(ctx, caller.org_id, campaign_id, parts=())
    return etagged_json(
        request, {**row, "kpis": doc["campaign"] if doc else None}, CampaignWithKpis
    )


@router.patch("/{campaign_id}", response_model=CampaignOut)
async def update_campaign(
    pool: PoolDep, caller: Manager, campaign_id: UUID, body: CampaignPatch
) -> dict[str, Any]:
    return await handlers.update_campaign(
        pool, caller, campaign_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/{campaign_id}", status_code=204)
async def delete_campaign(pool: PoolDep, caller: Manager, campaign_id: UUID) -> Response:
    await handlers.delete_campaign(pool, caller, campaign_id)
    return Response(status_code=204)
