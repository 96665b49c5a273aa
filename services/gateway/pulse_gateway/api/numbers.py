"""Numbers the gateway shows but does not hold: daily series, platform split, compare (from the
aggregator) and a post's sample history (from ingest).

Every route first checks, in the catalog, that the campaign or post belongs to the caller's
organization, so another agency's id answers 404 before any peer is asked.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from pulse_runtime.errors import ApiError

from .. import numbers, peers
from ..db import org_transaction
from ..deps import ContextDep, PoolDep, Reader
from ..handlers import campaigns as campaign_handlers
from ..http_cache import etagged_body, etagged_json
from ..repository import posts as posts_repo

router = APIRouter(tags=["numbers"])


@router.get("/api/campaigns/{campaign_id}/daily")
async def campaign_daily(
    request: Request,
    ctx: ContextDep,
    caller: Reader,
    campaign_id: UUID,
    influencer_id: UUID | None = None,
) -> Response:
    """The daily series (kpis.md); with `influencer_id`, over that creator's posts only."""
    await campaign_handlers.require_campaigns(ctx.pool, caller.org_id, [campaign_id])
    return etagged_body(
        request, await numbers.daily_json(ctx, caller.org_id, campaign_id, influencer_id)
    )


@router.get("/api/campaigns/{campaign_id}/platforms")
async def campaign_platforms(
    request: Request, ctx: ContextDep, caller: Reader, campaign_id: UUID
) -> Response:
    """Views and engagement per platform; empty before the first computation."""
    await campaign_handlers.require_campaigns(ctx.pool, caller.org_id, [campaign_id])
    doc = await numbers.campaign_numbers(ctx, caller.org_id, campaign_id, parts=("platforms",))
    return etagged_json(request, {"items": doc["platforms"] if doc else []})


@router.get("/api/compare")
async def compare(
    request: Request, ctx: ContextDep, caller: Reader, ids: Annotated[str, Query(max_length=200)]
) -> Response:
    """2–3 campaigns side by side with the winner of each metric (kpis.md Compare)."""
    wanted = _campaign_ids(ids)
    await campaign_handlers.require_campaigns(ctx.pool, caller.org_id, wanted)
    return etagged_json(request, await numbers.compare(ctx, caller.org_id, wanted))


@router.get("/api/posts/{post_id}/metrics")
async def post_metrics(
    ctx: ContextDep,
    pool: PoolDep,
    caller: Reader,
    post_id: UUID,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """The post's samples, oldest first (a removed post keeps its history)."""
    async with org_transaction(pool, caller.org_id) as conn:
        known = await posts_repo.post_exists(conn, org_id=caller.org_id, post_id=post_id)
    if not known:
        raise ApiError(404, f"no post {post_id}")
    body = await peers.post_samples(
        ctx, caller.org_id, post_id, limit=limit, cursor=_decode(cursor)
    )
    following = body.next_cursor
    return {"items": body.items, "next_cursor": _encode(following) if following else None}


def _campaign_ids(raw: str) -> list[UUID]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        ids = list(dict.fromkeys(UUID(part) for part in parts))
    except ValueError as exc:
        raise ApiError(
            422, "ids must be comma-separated campaign ids", details=[{"path": "ids"}]
        ) from exc
    if not 2 <= len(ids) <= 3:
        raise ApiError(
            422, "compare takes 2 or 3 different campaign ids", details=[{"path": "ids"}]
        )
    return ids


# Ingest pages by the last observed_at seen; the gateway hands it out opaque, like its own.
def _encode(cursor: str) -> str:
    return base64.urlsafe_b64encode(cursor.encode()).decode()


def _decode(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        decoded = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
        datetime.fromisoformat(decoded)  # ingest's cursor is the last observed_at it answered
        return decoded
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            422, "cursor is not one this API returned", details=[{"path": "cursor"}]
        ) from exc
