"""Operator screens (owners, managers): /runs and a run's detail, /rejected-items with replay,
/red-flags (the Health screen); and /settings/signing (owners): the n8n webhook's signing secrets.
Each over the same typed calls to ingest as /api (pulse_gateway.peers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, get_args
from uuid import UUID

from fastapi import Request, Response

from pulse_contracts.internal.ingest import CreatedSecret
from pulse_contracts.internal.ingest_operations import Replayed
from pulse_runtime.errors import ApiError

from .. import peers
from ..deps import ContextDep
from ..operations import RunSource, RunStatus, health
from .common import ViewerDep, page_router, pages, render
from .forms_support import form_fields, form_lists, require_manager, require_owner

router = page_router()
STATUSES: tuple[str, ...] = get_args(RunStatus)
SOURCES: tuple[str, ...] = get_args(RunSource)
CODES = (
    "unknown_post",
    "provider_error",
    "out_of_credits",
    "platform_mismatch",
    "post_removed",
    "invalid_item",
    "invalid_body",
    "unauthorized",
    "no_metrics",
    "no_post_reference",
    "counter_out_of_range",
    "observed_at_in_future",
)


RUNS_PER_PAGE = 100
REJECTED_PER_PAGE = 200


@router.get("/runs")
async def runs_page(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    status: str = "",
    source: str = "",
    cursor: str = "",
) -> Response:
    require_manager(viewer)
    filters = {
        "status": status if status in STATUSES else "",
        "source": source if source in SOURCES else "",
    }
    found = await peers.runs(
        ctx, viewer.principal.org_id, **filters, limit=RUNS_PER_PAGE, cursor=cursor or None
    )
    return render(
        request,
        "runs.html",
        runs=found.items,
        filters=filters,
        statuses=STATUSES,
        sources=SOURCES,
        **pages("/runs", filters, cursor, found.next_cursor),
    )


@router.get("/runs/{run_id}")
async def run_page(request: Request, ctx: ContextDep, viewer: ViewerDep, run_id: UUID) -> Response:
    require_manager(viewer)
    run = await peers.run(ctx, viewer.principal.org_id, run_id)
    outcomes = [i for i in run.items if i.kind == "outcome"]
    refused = [i for i in run.items if i.kind == "item"]
    return render(request, "run.html", run=run, outcomes=outcomes, refused=refused)


async def _rejected_view(
    ctx: ContextDep, viewer: ViewerDep, code: str, cursor: str = ""
) -> dict[str, Any]:
    if cursor and not cursor.isdigit():
        raise ApiError(400, "cursor is not one this page gave out")
    found = await peers.rejected_items(
        ctx,
        viewer.principal.org_id,
        code=code,
        limit=REJECTED_PER_PAGE,
        cursor=int(cursor) if cursor else None,
    )
    return {
        "items": found.items,
        "code": code,
        "codes": CODES,
        "replayed": None,
        **pages("/rejected-items", {"code": code}, cursor, found.next_cursor),
    }


@router.get("/rejected-items")
async def rejected_page(
    request: Request, ctx: ContextDep, viewer: ViewerDep, code: str = "", cursor: str = ""
) -> Response:
    require_manager(viewer)
    view = await _rejected_view(ctx, viewer, code if code in CODES else "", cursor)
    return render(request, "rejected_items.html", **view)


@router.post("/rejected-items/replay")
async def replay(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """Replay the ticked items; the page then lists what was applied and what is still refused
    (with the new reason)."""
    require_manager(viewer)
    values = await form_fields(request)
    picked = (await form_lists(request, "ids"))["ids"]
    ids = [int(i) for i in picked if i.isdigit()]
    code = values.get("code", "")
    replayed = Replayed(applied=[], still_rejected=[])
    if ids:
        replayed = await peers.replay_rejected(ctx, viewer.principal.org_id, ids)
    view = await _rejected_view(ctx, viewer, code if code in CODES else "")
    view["replayed"] = replayed
    return render(request, "rejected_items.html", **view)


@router.get("/red-flags")
async def health_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return render(request, "health.html", **await health(ctx, viewer.principal.org_id))


@router.post("/red-flags/resume")
async def resume(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    await peers.resume_pulls(ctx, viewer.principal.org_id)
    return render(request, "health.html", **await health(ctx, viewer.principal.org_id))


# ------------------------------------------------------------------------- signing secrets


async def _signing_view(ctx: ContextDep, viewer: ViewerDep) -> dict[str, Any]:
    found = await peers.signing_secrets(ctx, viewer.principal.org_id)
    return {
        "required": found.signing_required,
        "secrets": found.items,
        "active": sum(1 for s in found.items if s.active),
        "created": None,
        "error": None,
    }


async def _signing_action(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    act: Callable[[UUID], Awaitable[object]],
) -> Response:
    """`act` calls ingest for the organization; its 409 (e.g. retiring the only active secret
    while signing is required) is shown on the page."""
    require_owner(viewer)
    result: object = None
    error = None
    try:
        result = await act(viewer.principal.org_id)
    except ApiError as exc:
        if exc.status != 409:
            raise
        error = str(exc)
    view = await _signing_view(ctx, viewer)
    view["error"] = error
    if isinstance(result, CreatedSecret):
        view["created"] = result  # shown this once
    return render(request, "settings/signing.html", status_code=409 if error else 200, **view)


@router.get("/settings/signing")
async def signing_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_owner(viewer)
    return render(request, "settings/signing.html", **await _signing_view(ctx, viewer))


@router.post("/settings/signing/new")
async def new_secret(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    return await _signing_action(
        request, ctx, viewer, lambda org_id: peers.create_signing_secret(ctx, org_id)
    )


@router.post("/settings/signing/retire-older")
async def retire_older(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    return await _signing_action(
        request, ctx, viewer, lambda org_id: peers.retire_signing_secret(ctx, org_id, None)
    )


@router.post("/settings/signing/required")
async def set_required(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    values = await form_fields(request)
    required = values.get("required") == "true"
    return await _signing_action(
        request, ctx, viewer, lambda org_id: peers.require_signing(ctx, org_id, required)
    )
