"""/api/hashtags: a campaign's top hashtags and mentions (docs/insights.md), staff only.

The campaign is looked up in the catalog under the caller's organization (RLS) first, so an id
of another agency is as unknown as a made-up one, before the aggregator is asked.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from pulse_runtime.errors import ApiError

from ..db import org_transaction
from ..deps import ContextDep, Reader
from ..handlers.insights import TOP_DEFAULT, campaign_hashtags
from ..http_cache import etagged_json
from ..repository import campaigns

router = APIRouter(tags=["insights"])


def _bad(path: str, message: str) -> ApiError:
    return ApiError(422, message, details=[{"path": path, "message": message}])


def _day(raw: str | None, path: str) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(path, f"{path} must be a date as YYYY-MM-DD, not {raw[:40]!r}") from None


@router.get("/api/hashtags")
async def hashtags(
    request: Request,
    ctx: ContextDep,
    caller: Reader,
    campaign_id: Annotated[str | None, Query(max_length=64)] = None,
    first_day: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    last_day: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    limit: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """Top hashtags and mentions of the campaign's posts published from `from` to `to`
    (inclusive UTC dates, either optional), by views, with post count and engagement."""
    if not campaign_id:
        raise _bad("campaign_id", "campaign_id is required")
    try:
        wanted = UUID(campaign_id)
    except ValueError:
        raise _bad("campaign_id", "campaign_id must be a campaign's id (a UUID)") from None
    first, last = _day(first_day, "from"), _day(last_day, "to")
    if first is not None and last is not None and first > last:
        raise _bad("to", f"to ({last}) is before from ({first})")
    top = TOP_DEFAULT
    if limit:
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            raise _bad("limit", "limit must be a whole number from 1 to 100")
        top = int(limit)
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        known = await campaigns.existing_ids(conn, org_id=caller.org_id, ids=[wanted])
    if not known:
        raise _bad("campaign_id", f"no campaign {wanted} in your organization")
    body = await campaign_hashtags(
        ctx, caller.org_id, wanted, first_day=first, last_day=last, limit=top
    )
    return etagged_json(request, body)
