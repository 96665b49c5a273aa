"""/api/campaigns/{id}/emv: the campaign's earned media value per post, booking and campaign
(docs/insights.md), at the organization's current rates; an estimate, with ROI (staff only)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from pulse_contracts.emv import CampaignEmv

from .. import numbers
from ..deps import ContextDep, Reader
from ..handlers import campaigns as campaign_handlers

router = APIRouter(tags=["numbers"])


@router.get("/api/campaigns/{campaign_id}/emv", response_model=CampaignEmv | None)
async def campaign_emv(ctx: ContextDep, caller: Reader, campaign_id: UUID) -> CampaignEmv | None:
    """null before the campaign's first numbers; another organization's campaign is a 404."""
    await campaign_handlers.require_campaigns(ctx.pool, caller.org_id, [campaign_id])
    doc = await numbers.campaign_numbers(ctx, caller.org_id, campaign_id, parts=("posts",))
    return CampaignEmv.model_validate(doc["emv"]) if doc else None
