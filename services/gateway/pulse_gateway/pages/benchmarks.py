"""/benchmarks (the organization's benchmark sets, and a new one) and /benchmarks/{set_id}
(a set beside a campaign's creators, percentile by percentile; docs/insights.md)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request, Response

from pulse_runtime.errors import ApiError

from ..api.benchmarks import SetIn, benchmark_comparison
from ..db import org_transaction
from ..deps import ContextDep
from ..handlers import benchmarks as handlers
from ..repository import campaigns as campaigns_repo
from ..repository import sql
from .common import ViewerDep, optional, page_router, render
from .forms_support import (
    FormInvalid,
    done,
    error_status,
    form_fields,
    handler_errors,
    require_manager,
    validate,
)

router = page_router()

# (key, label, format) of the figures compared, in the order the screen shows them.
METRICS = [
    ("median_views", "Median views per post", "num"),
    ("median_engagement_rate", "Median engagement rate", "pct"),
    ("posts_per_week", "Posts per week", "dec"),
    ("follower_growth_pct", "Follower growth, 30 days", "pct"),
    ("view_growth_pct", "View growth, 30 days", "pct"),
]
PLATFORMS = ("tiktok", "instagram")


def _accounts(raw: str) -> list[dict[str, str]]:
    """One account a line, "tiktok @handle" or "instagram handle"; blank lines are skipped."""
    found = []
    for line in raw.splitlines():
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        platform = parts[0].lower() if len(parts) > 1 else ""
        found.append({"platform": platform, "handle": parts[-1]})
    return found


async def _sets(ctx: ContextDep, org_id: UUID) -> list[dict[str, Any]]:
    async with org_transaction(ctx.pool, org_id) as conn:
        return [dict(r) for r in await conn.fetch(sql.benchmark_sets_list, org_id)]


@router.get("/benchmarks")
async def benchmarks_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    sets = await _sets(ctx, viewer.principal.org_id)
    return render(request, "benchmarks.html", sets=sets, errors={}, values={})


@router.post("/benchmarks")
async def create_set(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    values = await form_fields(request)
    try:
        payload = {
            "name": values.get("name", ""),
            "accounts": _accounts(values.get("accounts", "")),
        }
        body = validate(SetIn, payload, {})
        created = await handlers.create_set(
            ctx.pool, viewer.principal, body.name, [(a.platform, a.handle) for a in body.accounts]
        )
    except (FormInvalid, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status not in (409, 422):
            raise
        errors = exc.errors if isinstance(exc, FormInvalid) else handler_errors(exc)
        # "accounts.0.handle" and the like belong to the one accounts box.
        errors = {("accounts" if k.startswith("accounts") else k): v for k, v in errors.items()}
        status = error_status(request)
        if request.headers.get("hx-request"):  # htmx swaps the form alone
            return render(
                request, "benchmarks_form.html", status_code=status, errors=errors, values=values
            )
        sets = await _sets(ctx, viewer.principal.org_id)
        return render(
            request, "benchmarks.html", status_code=status, sets=sets, errors=errors, values=values
        )
    return done(request, f"/benchmarks/{created['id']}")


@router.get("/benchmarks/{set_id}")
async def benchmark_page(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    set_id: UUID,
    campaign_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    org_id = viewer.principal.org_id
    chosen: UUID | None = None
    if campaign_id:
        try:
            chosen = UUID(campaign_id)
        except ValueError:
            chosen = None
    async with org_transaction(ctx.pool, org_id) as conn:
        campaigns = await campaigns_repo.list_campaigns(
            conn, org_id=org_id, status=None, client_id=None, q=None, after=None, limit=200
        )
        held = await handlers.get_set(conn, org_id, set_id)
    if chosen is None and campaigns:
        chosen = campaigns[0]["id"]
    notices: list[str] = []
    empty: dict[str, Any] = {
        "set": held,
        "percentiles": {},
        "accounts": [],
        "campaign": None,
        "creators": [],
        "tags": None,
    }
    result = await optional(benchmark_comparison(ctx, org_id, set_id, chosen), empty, notices)
    return render(
        request,
        "benchmark.html",
        result=result,
        campaigns=campaigns,
        chosen=str(chosen) if chosen else "",
        metrics=METRICS,
        notices=notices,
    )
