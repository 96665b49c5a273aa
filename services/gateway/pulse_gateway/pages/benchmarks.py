"""/benchmarks (the organization's benchmark sets, and a new one) and /benchmarks/{set_id}
(a set beside a campaign's creators, percentile by percentile; docs/insights.md), with the
forms that rename or delete a set and add or remove its accounts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request, Response

from pulse_runtime.errors import ApiError

from ..db import org_transaction
from ..deps import ContextDep
from ..handlers import benchmarks as handlers
from ..handlers.benchmark_comparison import benchmark_comparison
from ..handlers.benchmarks import AccountIn, SetIn, SetPatch
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
    chosen: UUID | None = None
    if campaign_id:
        try:
            chosen = UUID(campaign_id)
        except ValueError:
            chosen = None
    return await _set_page(request, ctx, viewer, set_id, chosen)


async def _set_page(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    set_id: UUID,
    chosen: UUID | None,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    org_id = viewer.principal.org_id
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
        status_code=status_code,
        result=result,
        campaigns=campaigns,
        chosen=str(chosen) if chosen else "",
        metrics=METRICS,
        notices=notices,
        managed=held["accounts"],  # as the gateway holds them, even while ingest is away
        errors=errors or {},
        values=values or {},
    )


async def _refused(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    set_id: UUID,
    exc: FormInvalid | ApiError,
    values: dict[str, str],
) -> Response:
    """The set's page again with the form's mistakes by their fields (a 404 or 403 stays one)."""
    if isinstance(exc, ApiError) and exc.status not in (409, 422):
        raise exc
    errors = exc.errors if isinstance(exc, FormInvalid) else handler_errors(exc)
    # The set's page holds two forms: a refusal of either shows in its own form.
    return await _set_page(
        request,
        ctx,
        viewer,
        set_id,
        None,
        errors=errors,
        values=values,
        status_code=error_status(request),
    )


@router.post("/benchmarks/{set_id}/rename")
async def rename_set(
    request: Request, ctx: ContextDep, viewer: ViewerDep, set_id: UUID
) -> Response:
    require_manager(viewer)
    values = await form_fields(request)
    try:
        body = validate(SetPatch, {"name": values.get("name", "").strip()}, {})
        await handlers.rename_set(ctx.pool, viewer.principal, set_id, body.name)
    except (FormInvalid, ApiError) as exc:
        return await _refused(request, ctx, viewer, set_id, exc, {**values, "form": "rename"})
    return done(request, f"/benchmarks/{set_id}")


@router.post("/benchmarks/{set_id}/delete")
async def delete_set(
    request: Request, ctx: ContextDep, viewer: ViewerDep, set_id: UUID
) -> Response:
    require_manager(viewer)
    await handlers.delete_set(ctx.pool, viewer.principal, set_id)
    return done(request, "/benchmarks")


@router.post("/benchmarks/{set_id}/accounts")
async def add_account(
    request: Request, ctx: ContextDep, viewer: ViewerDep, set_id: UUID
) -> Response:
    require_manager(viewer)
    values = await form_fields(request)
    try:
        payload = {"platform": values.get("platform", ""), "handle": values.get("handle", "")}
        body = validate(AccountIn, payload, {})
        await handlers.add_account(ctx.pool, viewer.principal, set_id, body.platform, body.handle)
    except (FormInvalid, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status == 409:  # already in the set: the handle's
            exc = FormInvalid({"handle": _sentence_of(exc.message)})
        return await _refused(request, ctx, viewer, set_id, exc, {**values, "form": "account"})
    return done(request, f"/benchmarks/{set_id}")


@router.post("/benchmarks/{set_id}/accounts/{account_id}/remove")
async def remove_account(
    request: Request, ctx: ContextDep, viewer: ViewerDep, set_id: UUID, account_id: UUID
) -> Response:
    require_manager(viewer)
    await handlers.remove_account(ctx.pool, viewer.principal, set_id, account_id)
    return done(request, f"/benchmarks/{set_id}")


def _sentence_of(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
