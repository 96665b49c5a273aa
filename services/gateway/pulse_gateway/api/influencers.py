"""/api/influencers: the creators an agency books, with their handles and track record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from pulse_contracts.values import CampaignStatus, Platform
from pulse_runtime.errors import ApiError

from .. import numbers
from ..db import listed, org_read
from ..deps import ContextDep, Manager, PoolDep, Reader
from ..handlers import influencers as handlers
from ..handlers.influencers import InfluencerIn, InfluencerPatch
from ..numbers import booking_numbers, post_numbers, with_latest
from ..repository import bookings as bookings_repo
from ..repository import influencers as repo
from ..repository import posts as posts_repo
from .posts import PostWithLatest

router = APIRouter(prefix="/api/influencers", tags=["influencers"])


class HandleOut(BaseModel):
    platform: Platform
    handle: str
    followers: int | None


class InfluencerOut(BaseModel):
    id: UUID
    display_name: str
    avatar_url: str | None
    tier: str | None
    notes: str
    handles: list[HandleOut]
    created_at: datetime
    updated_at: datetime


class InfluencerPage(BaseModel):
    items: list[InfluencerOut]
    next_cursor: str | None


class InfluencerBooking(BaseModel):
    id: UUID
    campaign_id: UUID
    campaign_name: str
    campaign_status: CampaignStatus
    currency: str
    start_date: date
    end_date: date
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
    kpis: dict[str, Any] | None  # the booking's KPI snapshot (kpis.md); null before computed
    posts: list[PostWithLatest]


class InfluencerDetail(InfluencerOut):
    bookings: list[InfluencerBooking]


@router.get("", response_model=InfluencerPage)
async def list_influencers(
    pool: PoolDep,
    caller: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Newest first; `q` searches display names case-insensitively."""
    return await listed(pool, caller.org_id, repo.list_influencers, cursor=cursor, limit=limit, q=q)


@router.post("", response_model=InfluencerOut, status_code=201)
async def create_influencer(pool: PoolDep, caller: Manager, body: InfluencerIn) -> dict[str, Any]:
    return await handlers.create_influencer(pool, caller, body.model_dump())


@router.get("/{influencer_id}", response_model=InfluencerDetail)
async def get_influencer(ctx: ContextDep, caller: Reader, influencer_id: UUID) -> dict[str, Any]:
    """The influencer, every live booking with its KPIs, and their posts' latest metrics."""
    async with org_read(ctx.pool, caller.org_id) as conn:
        row = await repo.read_influencer(conn, org_id=caller.org_id, influencer_id=influencer_id)
        if row is None:
            raise ApiError(404, f"no influencer {influencer_id}")
        bookings = await bookings_repo.bookings_of_influencer(
            conn, org_id=caller.org_id, influencer_id=influencer_id
        )
        posts = await posts_repo.posts_of_bookings(
            conn, org_id=caller.org_id, booking_ids=[b["id"] for b in bookings]
        )
    campaign_ids = list(dict.fromkeys(b["campaign_id"] for b in bookings))
    found = await numbers.campaign_documents(ctx, caller.org_id, campaign_ids)
    docs = [found.get(campaign_id) for campaign_id in campaign_ids]
    kpis = {c: booking_numbers(doc) for c, doc in zip(campaign_ids, docs, strict=True)}
    latest = {c: post_numbers(doc) for c, doc in zip(campaign_ids, docs, strict=True)}
    posts_by_booking: dict[UUID, list[dict[str, Any]]] = {}
    for post in posts:
        posts_by_booking.setdefault(post["booking_id"], []).append(post)
    detail = []
    for booking in bookings:
        by_post = latest[booking["campaign_id"]]
        detail.append(
            {
                **booking,
                "kpis": kpis[booking["campaign_id"]].get(str(booking["id"])),
                "posts": [with_latest(p, by_post) for p in posts_by_booking.get(booking["id"], [])],
            }
        )
    return {**row, "bookings": detail}


@router.patch("/{influencer_id}", response_model=InfluencerOut)
async def update_influencer(
    pool: PoolDep, caller: Manager, influencer_id: UUID, body: InfluencerPatch
) -> dict[str, Any]:
    return await handlers.update_influencer(
        pool, caller, influencer_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/{influencer_id}", status_code=204)
async def delete_influencer(pool: PoolDep, caller: Manager, influencer_id: UUID) -> Response:
    await handlers.delete_influencer(pool, caller, influencer_id)
    return Response(status_code=204)
