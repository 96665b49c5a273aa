"""/alerts: triage. Filters in the URL, severity first, many resolved at once with one note,
and each alert's history on demand. The alerter owns alerts; this page only asks it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Annotated, Any, get_args
from uuid import UUID

from fastapi import Form, Query, Request, Response

from pulse_contracts import utcnow
from pulse_contracts.internal.alerter import Alert, AlertPage
from pulse_contracts.values import AlertType, Severity
from pulse_runtime.errors import ApiError

from .. import peers
from ..db import org_transaction
from ..deps import ContextDep
from ..repository import alert_snoozes
from ..repository import campaigns as campaigns_repo
from ..repository import posts as posts_repo
from .common import ViewerDep, is_fragment_request, page_router, render

router = page_router()

TYPES: tuple[str, ...] = get_args(AlertType)
SEVERITIES: tuple[str, ...] = get_args(Severity)
STATUSES = ("open", "resolved", "all")
LIST_LIMIT = 200
MAX_NOTE = 2000
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
SNOOZE = timedelta(hours=24)  # "Snooze 1 day": back on the list tomorrow at this time


def alert_post_urls(alerts: Iterable[Alert], posts: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The URL of each post the alerts point to, by the post's id as text: a creator's posts
    read alike in alert messages, so every post alert links to its own post."""
    wanted = {a.post_id for a in alerts if a.post_id}
    return {str(p["id"]): p["url"] for p in posts if p["id"] in wanted}


def _filters(
    status: str | None,
    type: str | None,
    severity: str | None,
    campaign_id: str | None,
    snoozed: str | None = None,
) -> dict[str, str]:
    """What the page filters by; anything unknown is dropped rather than refused."""
    chosen = {
        "status": status if status in STATUSES else "open",
        "type": type if type in TYPES else "",
        "severity": severity if severity in SEVERITIES else "",
        "campaign_id": "",
        "snoozed": "1" if snoozed == "1" else "",
    }
    with contextlib.suppress(ValueError):
        chosen["campaign_id"] = str(UUID(campaign_id)) if campaign_id else ""
    return chosen


def grouped(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Near-identical alerts (same state, type and booking: three viral posts of one creator)
    right under the first of them, groups in the order given. Each alert gets `group` (the
    first one's id) and `similar` (on the first: how many others; elsewhere 0)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for alert in alerts:
        # A campaign-wide alert (no booking) stands alone: its own id is part of its key.
        alone = alert["id"] if alert.get("booking_id") is None else None
        key = (
            alert["status"],
            alert["type"],
            alert.get("campaign_id"),
            alert.get("booking_id"),
            alone,
        )
        groups.setdefault(key, []).append(alert)
    ordered: list[dict[str, Any]] = []
    for members in groups.values():
        for alert in members:
            alert["group"] = str(members[0]["id"])
            alert["similar"] = 0
        members[0]["similar"] = len(members) - 1
        ordered.extend(members)
    return ordered


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
        found = AlertPage(items=[], next_cursor=None)
    booking_ids = list({a.booking_id for a in found.items if a.booking_id})
    open_ids = [a.id for a in found.items if a.status == "open"]
    async with org_transaction(ctx.pool, org_id) as conn:
        posts = await posts_repo.posts_of_bookings(conn, org_id=org_id, booking_ids=booking_ids)
        snoozes = await alert_snoozes.snoozed(conn, org_id=org_id, alert_ids=open_ids, now=utcnow())
    post_urls = alert_post_urls(found.items, posts)
    names = {str(c["id"]): c["name"] for c in campaigns}
    # The list's rows: each alert as the alerter sent it (JSON), with the names it points to.
    alerts = [
        {
            **a.model_dump(mode="json"),
            "campaign_name": names.get(str(a.campaign_id)),
            "post_url": post_urls.get(str(a.post_id)),
            "snoozed_until": snoozes.get(a.id),
        }
        for a in found.items
    ]
    # Snoozed alerts stay off the list until they come back, unless asked for.
    snoozed_hidden = sum(1 for a in alerts if a["snoozed_until"]) if not filters["snoozed"] else 0
    if not filters["snoozed"]:
        alerts = [a for a in alerts if not a["snoozed_until"]]
    # Open before resolved, the worst first, then the newest.
    alerts.sort(key=lambda a: str(a["raised_at"]), reverse=True)
    alerts.sort(key=lambda a: (a["status"] != "open", SEVERITY_ORDER.get(a["severity"], 3)))
    return {
        "alerts": grouped(alerts),
        "more": bool(found.next_cursor),
        "campaigns": campaigns,
        "filters": filters,
        "types": TYPES,
        "severities": SEVERITIES,
        "statuses": STATUSES,
        "filtered": any(filters[k] for k in ("type", "severity", "campaign_id"))
        or filters["status"] != "open",
        "notices": notices,
        "snoozed_hidden": snoozed_hidden,
        "resolved_count": None,
        "snoozed_note": None,
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
    snoozed: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    view = await _view(ctx, viewer, _filters(status, type, severity, campaign_id, snoozed))
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
        resolved = sum(1 for item in answer.items if item.result == "resolved")
    view = await _view(ctx, viewer, filters)
    view.update(resolved_count=resolved, problem=problem, note=note if problem else "")
    return render(request, "alerts_list.html", **view)


@router.post("/alerts/{alert_id}/snooze")
async def snooze_alert(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    alert_id: UUID,
    status: Annotated[str | None, Form(max_length=20)] = None,
    type: Annotated[str | None, Form(max_length=40)] = None,
    severity: Annotated[str | None, Form(max_length=20)] = None,
    campaign_id: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    """Leave one open alert off the list for a day; the list comes back under the same
    filters. The alerter is asked first: another agency's alert is a 404 like a missing one."""
    org_id = viewer.principal.org_id
    alert = await peers.alert(ctx, org_id, alert_id)
    problem: str | None = None
    until = None
    if alert.status != "open":
        problem = "Only an open alert can be snoozed."
    else:
        async with org_transaction(ctx.pool, org_id) as conn:
            until = await alert_snoozes.snooze(
                conn,
                org_id=org_id,
                alert_id=alert_id,
                until=utcnow() + SNOOZE,
                user_id=viewer.principal.user_id,
            )
    view = await _view(ctx, viewer, _filters(status, type, severity, campaign_id))
    view.update(problem=problem, snoozed_note=until)
    return render(request, "alerts_list.html", **view)


@router.get("/alerts/{alert_id}/history")
async def alert_history(
    request: Request, ctx: ContextDep, viewer: ViewerDep, alert_id: UUID
) -> Response:
    """Every raise, escalation and resolution of one alert, oldest first."""
    alert = await peers.alert(ctx, viewer.principal.org_id, alert_id)
    # As JSON: the <time datetime> attribute shows the alerter's ISO text.
    return render(request, "alert_history.html", alert=alert.model_dump(mode="json"))
