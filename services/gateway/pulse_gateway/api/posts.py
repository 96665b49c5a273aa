"""Tracked posts: register a URL on a booking, list a campaign's posts, stop tracking one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from pulse_contracts.values import Platform
from pulse_runtime.errors import ApiError

from .. import numbers, peers
from ..db import decode_cursor, org_read, page
from ..deps import ContextDep, Manager, PoolDep, Reader
from ..handlers import posts as handlers
from ..handlers.posts import PostIn
from ..repository import campaigns as campaigns_repo
from ..repository import posts as repo

router = APIRouter(tags=["posts"])


class PostOut(BaseModel):
    id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: Platform
    url: str
    platform_post_id: str | None
    registered_at: datetime


class PostWithLatest(PostOut):
    """The post with its facts and latest counters from the campaign's numbers document."""

    posted_at: datetime | None = None
    caption: str | None = None
    thumb_url: str | None = None
    latest: dict[str, Any] | None = None  # null before the first sample


class TrackedPostOut(PostWithLatest):
    influencer_id: UUID
    influencer_name: str | None
    # Filled from ingest's pull runs by a later change; null for now.
    pull_status: str | None = None
    last_error: str | None = None
    last_pulled_at: datetime | None = None


class TrackedPostPage(BaseModel):
    items: list[TrackedPostOut]
    next_cursor: str | None


@router.post("/api/bookings/{booking_id}/posts", response_model=PostOut, status_code=201)
async def register_post(
    pool: PoolDep, caller: Manager, booking_id: UUID, body: PostIn
) -> dict[str, Any]:
    return await handlers.register_post(pool, caller, booking_id, body.url)


@router.get("/api/campaigns/{campaign_id}/posts", response_model=TrackedPostPage)
async def list_campaign_posts(
    ctx: ContextDep,
    caller: Reader,
    campaign_id: UUID,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    async with org_read(ctx.pool, caller.org_id) as conn:
        campaign = await campaigns_repo.read_campaign(
            conn, org_id=caller.org_id, campaign_id=campaign_id
        )
        if campaign is None:
            raise ApiError(404, f"no campaign {campaign_id}")
        rows = await repo.posts_of_campaign(
            conn,
            org_id=caller.org_id,
            campaign_id=campaign_id,
            after=decode_cursor(cursor),
            limit=limit + 1,
        )
    result = page(rows, limit, key="registered_at")
    latest = numbers.post_numbers(
        await numbers.campaign_numbers(ctx, caller.org_id, campaign_id, parts=("posts",))
    )
    pulls = await peers.pull_status(ctx, caller.org_id, campaign_id)
    result["items"] = [
        numbers.with_pulls(numbers.with_latest(row, latest), pulls) for row in result["items"]
    ]
    return result


@router.delete("/api/posts/{post_id}", status_code=204)
async def remove_post(pool: PoolDep, caller: Manager, post_id: UUID) -> Response:
    await handlers.remove_post(pool, caller, post_id)
    return Response(status_code=204)
