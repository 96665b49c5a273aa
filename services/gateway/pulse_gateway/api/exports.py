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
from pulse_contracts.emv import CampaignEmv
from pulse_contracts.numbers import CampaignNumbers
from pulse_runtime.errors import ApiError

from .. import numbers
from ..csv_export import export_campaign_csv
from ..db import org_transaction
from ..deps import ContextDep, Reader
from ..reports import not_computed_yet
from ..repository import exports as repo

router = APIRouter(tags=["exports"])

BOM = "\ufeff"  # so Excel reads the file as UTF-8 and shows creators' names as written
SUMMARY_CHUNK = 200  # campaign ids per aggregator request


@router.get("/api/campaigns/{campaign_id}/export.csv", response_class=StreamingResponse)
async def export_campaign(ctx: ContextDep, caller: Reader, campaign_id: UUID) -> StreamingResponse:
    """One row per tracked post with its latest counters, fees, booking KPIs and EMV (an
    estimate), then totals with the campaign's EMV and ROI. Staff only: no client gets it."""
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        campaign = await repo.campaign(conn, org_id=caller.org_id, campaign_id=campaign_id)
        if campaign is None:
            raise ApiError(404, f"no campaign {campaign_id}")
        names = await repo.creator_names(conn, org_id=caller.org_id, campaign_id=campaign_id)
    found = await numbers.campaign_numbers(ctx, caller.org_id, campaign_id)
    doc = CampaignNumbers.model_validate(found) if found is not None else not_computed_yet(campaign)
    # The EMV the read valued at the organization's current rates, as /api/campaigns/{id}/emv.
    emv = CampaignEmv.model_validate(found["emv"]) if found is not None else None
    filename = f"{_slug(campaign['name'])}-{utcnow().date().isoformat()}.csv"
    return StreamingResponse(
        _with_bom(export_campaign_csv(doc, influencer_names=names, include_money=True, emv=emv)),
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
        state = await repo.catalog_state(conn, caller.org_id)
    if state is None:
        raise ApiError(404, "no such organization")
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


def _with_bom(records: Iterator[str]) -> Iterator[str]:
    yield BOM
    yield from records


def _slug(name: str) -> str:
    """A filename any system accepts: ASCII letters, digits and dashes only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:80].strip("-")
    return slug or "campaign"
