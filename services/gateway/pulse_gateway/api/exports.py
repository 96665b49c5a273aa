"""Exports: a campaign as CSV (streamed), and the organization's whole state as one JSON
document. (The agency's PDF report is a report job: api/reports.py.)

All read the catalog under the caller's organization and the numbers from the aggregator;
none ever contains a password hash or a token hash (the columns are never selected).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from pulse_contracts import utcnow
from pulse_contracts.numbers import CampaignNumbers
from pulse_runtime.db import Connection
from pulse_runtime.errors import ApiError

from .. import numbers
from ..csv_io import export_campaign_csv
from ..db import org_transaction
from ..deps import ContextDep, Reader
from ..reports import not_computed_yet

router = APIRouter(tags=["exports"])

BOM = "\ufeff"  # so Excel reads the file as UTF-8 and shows creators' names as written
SUMMARY_CHUNK = 200  # campaign ids per aggregator request

_CAMPAIGN = """
SELECT id, client_id, name, status, start_date, end_date, budget_cents, currency,
       committed_views, committed_engagement
FROM catalog.campaigns
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
"""
_INFLUENCER_NAMES = """
SELECT DISTINCT i.id, i.display_name
FROM catalog.bookings AS b
JOIN catalog.influencers AS i ON i.id = b.influencer_id AND i.org_id = b.org_id
WHERE b.org_id = $1 AND b.campaign_id = $2
"""
_ORGANIZATION = """
SELECT id, name, is_test, settings, created_at, updated_at
FROM catalog.organizations WHERE id = $1
"""
_CLIENTS = """
SELECT id, name, brand_color, logo_url, created_at, updated_at
FROM catalog.clients WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
"""
_CAMPAIGNS = """
SELECT id, client_id, name, status, start_date, end_date, budget_cents, currency,
       committed_views, committed_engagement, notes, created_at, updated_at
FROM catalog.campaigns WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
"""
_INFLUENCERS = """
SELECT id, display_name, avatar_url, tier, notes, created_at, updated_at
FROM catalog.influencers WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
"""
_HANDLES = """
SELECT influencer_id, platform, handle, followers
FROM catalog.influencer_handles WHERE org_id = $1 ORDER BY influencer_id, platform, handle
"""
_BOOKINGS = """
SELECT id, campaign_id, influencer_id, fee_cents, committed_views, committed_engagement,
       committed_posts, min_engagement_rate, exclusivity_days, usage_rights_days, notes,
       created_at, updated_at
FROM catalog.bookings WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
"""
_POSTS = """
SELECT p.id, p.booking_id, p.campaign_id, p.platform, p.url, p.platform_post_id,
       p.registered_at, p.removed_at
FROM catalog.posts AS p
JOIN catalog.bookings AS b ON b.id = p.booking_id AND b.deleted_at IS NULL
WHERE p.org_id = $1 ORDER BY p.registered_at, p.id
"""


@router.get("/api/campaigns/{campaign_id}/export.csv", response_class=StreamingResponse)
async def export_campaign(ctx: ContextDep, caller: Reader, campaign_id: UUID) -> StreamingResponse:
    """One row per tracked post with its latest counters, fees and booking KPIs, then totals."""
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        campaign = await conn.fetchrow(_CAMPAIGN, caller.org_id, campaign_id)
        if campaign is None:
            raise ApiError(404, f"no campaign {campaign_id}")
        names = {
            r["id"]: r["display_name"]
            for r in await conn.fetch(_INFLUENCER_NAMES, caller.org_id, campaign_id)
        }
    found = await numbers.campaign_numbers(ctx, caller.org_id, campaign_id)
    doc = (
        CampaignNumbers.model_validate(found)
        if found is not None
        else not_computed_yet(dict(campaign))
    )
    filename = f"{_slug(campaign['name'])}-{utcnow().date().isoformat()}.csv"
    return StreamingResponse(
        _with_bom(export_campaign_csv(doc, influencer_names=names, include_money=True)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
            ),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/api/pulse")
async def organization_state(ctx: ContextDep, caller: Reader) -> JSONResponse:
    """The organization's whole catalog, with each campaign's KPI snapshot, as one document."""
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        state = await _catalog_state(conn, caller.org_id)
    ids = [c["id"] for c in state["campaigns"]]
    summaries: dict[UUID, dict[str, Any]] = {}
    for start in range(0, len(ids), SUMMARY_CHUNK):
        summaries.update(
            await numbers.campaign_summaries(ctx, caller.org_id, ids[start : start + SUMMARY_CHUNK])
        )
    for campaign in state["campaigns"]:
        campaign["kpis"] = summaries.get(campaign["id"])
    document = {"generated_at": utcnow(), **state}
    return JSONResponse(jsonable_encoder(document), headers={"Cache-Control": "private, no-store"})


async def _catalog_state(conn: Connection, org_id: UUID) -> dict[str, Any]:
    organization = await conn.fetchrow(_ORGANIZATION, org_id)
    if organization is None:
        raise ApiError(404, "no such organization")
    handles: dict[UUID, list[dict[str, Any]]] = {}
    for row in await conn.fetch(_HANDLES, org_id):
        handle = dict(row)
        handles.setdefault(handle.pop("influencer_id"), []).append(handle)
    influencers = [
        {**dict(r), "handles": handles.get(r["id"], [])}
        for r in await conn.fetch(_INFLUENCERS, org_id)
    ]
    return {
        "organization": dict(organization),
        "clients": [dict(r) for r in await conn.fetch(_CLIENTS, org_id)],
        "campaigns": [dict(r) for r in await conn.fetch(_CAMPAIGNS, org_id)],
        "influencers": influencers,
        "bookings": [dict(r) for r in await conn.fetch(_BOOKINGS, org_id)],
        "posts": [dict(r) for r in await conn.fetch(_POSTS, org_id)],
    }


def _with_bom(records: Iterator[str]) -> Iterator[str]:
    yield BOM
    yield from records


def _slug(name: str) -> str:
    """A filename any system accepts: ASCII letters, digits and dashes only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:80].strip("-")
    return slug or "campaign"
