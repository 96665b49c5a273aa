"""Bookings: /api/campaigns/{id}/bookings to list and create, /api/bookings/{id} to change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from pydantic_core import to_json

from pulse_runtime.errors import ApiError

from .. import numbers
from ..db import decode_cursor, org_read, page
from ..deps import ContextDep, Manager, PoolDep, Reader
from ..handlers import bookings as handlers
from ..handlers.bookings import BookingIn, BookingPatch
from ..http_cache import etagged_body
from ..repository import bookings as repo
from ..repository import campaigns as campaigns_repo

router = APIRouter(tags=["bookings"])


class BookingOut(BaseModel):
    id: UUID
    campaign_id: UUID
    influencer_id: UUID
    influencer_name: str | None
    fee_cents: int
    committed_views: int | None
    committed_engagement: int | None
    committed_posts: int | None
    min_engagement_rate: float | None
    exclusivity_days: int | None
    usage_rights_days: int | None
    notes: str
    created_at: datetime
    updated_at: datetime


class BookingWithKpis(BookingOut):
    kpis: dict[str, Any] | None  # the booking's KPI snapshot (kpis.md); null before computed


class BookingPage(BaseModel):
    items: list[BookingWithKpis]
    next_cursor: str | None


@router.get("/api/campaigns/{campaign_id}/bookings", response_model=BookingPage)
async def list_bookings(
    request: Request,
    ctx: ContextDep,
    caller: Reader,
    campaign_id: UUID,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Response:
    """The campaign's bookings, each with its KPI snapshot (kpis.md)."""
    async with org_read(ctx.pool, caller.org_id) as conn:
        campaign = await campaigns_repo.read_campaign(
            conn, org_id=caller.org_id, campaign_id=campaign_id
        )
        if campaign is None:
            raise ApiError(404, f"no campaign {campaign_id}")
        rows = await repo.list_bookings(
            conn,
            org_id=caller.org_id,
            campaign_id=campaign_id,
            after=decode_cursor(cursor),
            limit=limit + 1,
        )
    result = page(rows, limit)
    kpis = await numbers.booking_snapshots_json(ctx, caller.org_id, campaign_id)
    return etagged_body(request, booking_page_json(result["items"], result["next_cursor"], kpis))


def booking_page_json(
    rows: list[dict[str, Any]], next_cursor: str | None, kpis: dict[str, bytes]
) -> bytes:
    """BookingPage as JSON with each booking's snapshot spliced in as the read model holds it:
    parsing it only to serialise it again was most of a booking list's cost. `kpis` is the
    model's last field, so it goes just before each item's closing brace."""
    items = [
        BookingOut.model_validate(row).model_dump_json().encode()[:-1]
        + b',"kpis":'
        + kpis.get(str(row["id"]), b"null")
        + b"}"
        for row in rows
    ]
    return b'{"items":[' + b",".join(items) + b'],"next_cursor":' + to_json(next_cursor) + b"}"


@router.post("/api/campaigns/{campaign_id}/bookings", response_model=BookingOut, status_code=201)
async def create_booking(
    pool: PoolDep, caller: Manager, campaign_id: UUID, body: BookingIn
) -> dict[str, Any]:
    return await handlers.create_booking(pool, caller, campaign_id, body.model_dump())


@router.patch("/api/bookings/{booking_id}", response_model=BookingOut)
async def update_booking(
    pool: PoolDep, caller: Manager, booking_id: UUID, body: BookingPatch
) -> dict[str, Any]:
    return await handlers.update_booking(
        pool, caller, booking_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/api/bookings/{booking_id}", status_code=204)
async def delete_booking(pool: PoolDep, caller: Manager, booking_id: UUID) -> Response:
    await handlers.delete_booking(pool, caller, booking_id)
    return Response(status_code=204)
