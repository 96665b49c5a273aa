"""A campaign's top hashtags and mentions (docs/insights.md), from the aggregator's rollup: the
answer of /api/hashtags and the campaign page's tag cloud. The caller has checked the campaign
is its organization's."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from .. import peers
from ..context import GatewayContext

TOP_DEFAULT = 20


async def campaign_hashtags(
    ctx: GatewayContext,
    org_id: UUID,
    campaign_id: UUID,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    limit: int = TOP_DEFAULT,
) -> dict[str, Any]:
    """The answer of the route, for the campaign page too (the campaign already checked)."""
    params = {"limit": str(limit)}
    if first_day is not None:
        params["from"] = first_day.isoformat()
    if last_day is not None:
        params["to"] = last_day.isoformat()
    found = await peers.hashtags(ctx, org_id, campaign_id, params)
    return {
        "campaign_id": str(campaign_id),
        "from": first_day.isoformat() if first_day else None,
        "to": last_day.isoformat() if last_day else None,
        **found.model_dump(mode="json"),  # hashtags, mentions: JSON for the ETag'd answer
    }
