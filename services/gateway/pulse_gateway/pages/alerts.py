"""/alerts: triage. Filters in the URL, severity first, many resolved at once with one note,
and each alert's history on demand. The alerter owns alerts; this page only asks it."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, get_args
from uuid import UUID

from fastapi import Form, Query, Request, Response

from pulse_contracts.values import AlertType, Severity
from pulse_runtime.errors import ApiError

from .. import peers
from ..db import org_transaction
from ..deps import ContextDep
from ..repository import campaigns as campaigns_repo
from .common import ViewerDep, is_fragment_request, page_router, render

router = page_router()

TYPES: tuple[str, ...] = get_args(AlertType)
SEVERITIES: tuple[str, ...] = get_args(Severity)
STATUSES = ("open", "resolved", "all")
LIST_LIMIT = 200
MAX_NOTE = 2000
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _filters(
    status: str | None, type: str | None, severity: str | None, campaign_id: str | None
) -> dict[str, str]:
    """What the page filters by; anything unknown is dropped rather than refused."""
    chosen = {
        "status": status if status in STATUSES else "open",
        "type": type if type in TYPES else "",
        "severity": severity if severity in SEVERITIES else "",
        "campaign_id": "",
    }
    with contextlib.suppress(ValueError):
        chosen["campaign_id"] = str(UUID(campaign_id)) if campaign_id else ""
    return chosen


async def _view(ctx: ContextDep, viewer: ViewerDep, filters: dict[str, str]) -> dict[str, Any]:
    org_id = viewer.principal.org_id
    params = {"limit": str(LIST_LIMIT)}
    if filters["status"] != "all":
        params["status"] = filters["status"]
    for key in ("type", "severity", "campaign_id"):
        if filters[key]:
            params[key] = filters[key]
    async with org_transaction(ctx.pool, org_id) as conn:
        campaigns = await campaigns_repo.list_campaigns(
            conn, org_id=org_id, status=None, client_id=None, q=None, after=None, limit=500
        )
    notices: list[str] = []
    try:
        found = await peers.alerts(ctx, org_id, params)
    except ApiError as exc:
        if exc.status != 503:
            raise
        notices.append(exc.message)
        found = {"items": [], "next_cursor": None}
    names = {str(c["id"]): c["name"] for c in campaigns}
    alerts = [{**a, "campaign_name": names.get(str(a.get("campaign_id")))} for a in found["items"]]
    # Open before resolved, the worst first, then the newest.
    alerts.sort(key=lambda a: str(a["raised_at"]), reverse=True)
    alerts.sort(key=lambda a: (a["status"] != "open", SEVERITY_ORDER.get(a["severity"], 3)))
    return {
        "alerts": alerts,
        "more": bool(found.get("next_cursor")),
        "campaigns": campaigns,
        "filters": filters,
        "types": TYPES,
        "severities": SEVERITIES,
        "statuses": STATUSES,
        "filtered": any(filters[k] for k in ("type", "severity", "campaign_id"))
        or filters["status"] != "open",
        "notices": notices,
        "resolved_count": None,
        "problem": None,
    }


@router.get("/alerts")
async def alerts_page(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    type: Annotated[str | None, Query(max_length=40)] = None,
    severity: Annotated[str | None, Query(max_length=20)] = None,
    campaign_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    view = await _view(ctx, viewer, _filters(status, type, severity, campaign_id))
    if is_fragment_request(request) and request.headers.get("hx-target") == "alert-list":
        return render(request, "alerts_list.html", headers={"Vary": "HX-Request"}, **view)
    return render(request, "alerts.html", headers={"Vary": "HX-Request"}, **view)


@router.post("/alerts/resolve")
async def resolve_alerts(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    ids: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=10_000)] = "",
    status: Annotated[str | None, Form(max_length=20)] = None,
    type: Annotated[str | None, Form(max_length=40)] = None,
    severity: Annotated[str | None, Form(max_length=20)] = None,
    campaign_id: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    """Resolve the ticked alerts with one note (the same alerter call as POST
    /api/alerts/resolve); the list comes back under the same filters."""
    filters = _filters(status, type, severity, campaign_id)
    problem: str | None = None
    resolved: int | None = None
    try:
        chosen = list(dict.fromkeys(UUID(i) for i in ids or []))
    except ValueError:
        chosen = []
    text = note.strip() or None
    if not chosen:
        problem = "Tick at least one alert to resolve."
    elif len(chosen) > 200:
        problem = "Resolve at most 200 alerts at once."
    elif text is not None and len(text) > MAX_NOTE:
        problem = f"The note is {len(text):,} characters long; keep it under {MAX_NOTE:,}."
    else:
        answer = await peers.resolve_alerts(
            ctx, viewer.principal.org_id, chosen, user_id=viewer.principal.user_id, note=text
        )
        resolved = sum(1 for item in answer.get("items", []) if item.get("result") == "resolved")
    view = await _view(ctx, viewer, filters)
    view.update(resolved_count=resolved, problem=problem, note=note if problem else "")
    return render(request, "alerts_list.html", **view)


@router.get("/alerts/{alert_id}/history")
async def alert_history(
    request: Request, ctx: ContextDep, viewer: ViewerDep, alert_id: UUID
) -> Response:
    """Every raise, escalation and resolution of one alert, oldest first."""
    alert = await peers.alert(ctx, viewer.principal.org_id, alert_id)
    return render(request, "alert_history.html", alert=alert)
