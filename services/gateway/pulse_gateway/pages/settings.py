"""/settings: people and their roles, API tokens (owners), alert thresholds and notification
channels; each over the same handlers and peers as /api."""

from __future__ import annotations

import asyncio
from typing import Any, get_args
from uuid import UUID

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from pulse_contracts.alerts import AlertThresholds
from pulse_contracts.internal.alerter import ChannelIn, ChannelPage, DeliveryPage
from pulse_contracts.values import Severity, TokenScope
from pulse_runtime.errors import ApiError

from .. import peers
from ..db import org_transaction
from ..deps import ContextDep
from ..handlers import accounts
from ..handlers import organizations as organizations_handlers
from ..handlers import tokens as tokens_handlers
from ..handlers.accounts import RoleName, UserIn, UserPatch
from ..handlers.tokens import TokenIn
from ..repository import tokens as tokens_repo
from ..repository import users as users_repo
from .common import Viewer, ViewerDep, is_fragment_request, optional, page_router, render
from .forms_support import (
    FormInvalid,
    decimal_number,
    error_status,
    form_fields,
    form_lists,
    handler_errors,
    require_manager,
    require_owner,
    validate,
    whole_number,
)

router = page_router()
ROLES: tuple[str, ...] = get_args(RoleName)
SCOPES: tuple[str, ...] = get_args(TokenScope)
SEVERITIES: tuple[str, ...] = get_args(Severity)


@router.get("/settings")
async def settings_home(viewer: ViewerDep) -> Response:
    """Owners land on their people; everyone else on the alert thresholds they can read."""
    return RedirectResponse("/settings/users" if viewer.is_owner else "/settings/alerts", 303)


def _page(
    request: Request, template: str, body: str, status: int = 200, **context: Any
) -> Response:
    fragment = is_fragment_request(request) and request.method == "POST"
    return render(request, body if fragment else template, status_code=status, **context)


# ---------------------------------------------------------------------------------- users


async def _users_view(ctx: ContextDep, viewer: Viewer) -> dict[str, Any]:
    async with org_transaction(ctx.pool, viewer.principal.org_id) as conn:
        users = await users_repo.list_users(
            conn, org_id=viewer.principal.org_id, after=None, limit=500
        )
    users.sort(key=lambda u: (u["disabled"], u["email"]))
    return {
        "users": users,
        "roles": ROLES,
        "errors": {},
        "values": {"role": "analyst"},
        "done": None,
    }


@router.get("/settings/users")
async def users_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_owner(viewer)
    return render(request, "settings/users.html", **await _users_view(ctx, viewer))


@router.post("/settings/users/new")
async def create_user(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """Invite a colleague: with a password they sign in at once; without one, by an email
    link from the sign-in page."""
    require_owner(viewer)
    values = await form_fields(request)
    view = await _users_view(ctx, viewer)
    payload = {
        "email": values.get("email", ""),
        "name": values.get("name", ""),
        "role": values.get("role", ""),
        "password": values.get("password") or None,
    }
    try:
        body = validate(UserIn, payload, {})
        row = await accounts.create_user(
            ctx.pool, viewer.principal, viewer.principal.org_id, body.model_dump()
        )
    except FormInvalid as exc:
        view.update(errors=exc.errors, values=values)
        return _page(
            request,
            "settings/users.html",
            "settings/users_body.html",
            error_status(request),
            **view,
        )
    except ApiError as exc:
        if exc.status != 409:
            raise
        view.update(errors={"email": handler_errors(exc)[""]}, values=values)
        return _page(
            request,
            "settings/users.html",
            "settings/users_body.html",
            error_status(request),
            **view,
        )
    view = await _users_view(ctx, viewer)
    view["done"] = f"{row['email']} can now sign in as {row['role']}."
    return _page(request, "settings/users.html", "settings/users_body.html", **view)


@router.post("/settings/users/{user_id}")
async def change_user(
    request: Request, ctx: ContextDep, viewer: ViewerDep, user_id: UUID
) -> Response:
    """Change a role, or deactivate / reactivate (people are never erased: the audit log
    keeps naming them)."""
    require_owner(viewer)
    values = await form_fields(request)
    changes: dict[str, Any] = {}
    if values.get("role"):
        changes["role"] = values["role"]
    if values.get("disabled") in ("true", "false"):
        changes["disabled"] = values["disabled"] == "true"
    problem: str | None = None
    if changes.get("disabled") and user_id == viewer.principal.user_id:
        problem = "You cannot deactivate yourself; ask another owner."
    else:
        try:
            patch = validate(UserPatch, changes, {})
            await accounts.update_user(
                ctx.pool,
                ctx.sessions,
                viewer.principal,
                user_id,
                patch.model_dump(exclude_unset=True),
            )
        except FormInvalid:
            problem = "Choose one of the roles."
        except ApiError as exc:
            if exc.status != 409:
                raise
            problem = handler_errors(exc)[""]
    view = await _users_view(ctx, viewer)
    view["errors"] = {"": problem} if problem else {}
    view["done"] = None if problem else "Saved."
    return _page(request, "settings/users.html", "settings/users_body.html", **view)


# --------------------------------------------------------------------------------- tokens


async def _tokens_view(ctx: ContextDep, viewer: Viewer) -> dict[str, Any]:
    async with org_transaction(ctx.pool, viewer.principal.org_id) as conn:
        tokens = await tokens_repo.list_tokens(
            conn, org_id=viewer.principal.org_id, after=None, limit=500
        )
    tokens.sort(key=lambda t: (t["revoked_at"] is not None, str(t["created_at"])))
    return {"tokens": tokens, "scopes": SCOPES, "errors": {}, "values": {}, "created": None}


@router.get("/settings/tokens")
async def tokens_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_owner(viewer)
    return render(request, "settings/tokens.html", **await _tokens_view(ctx, viewer))


@router.post("/settings/tokens/new")
async def create_token(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """The secret is in this answer only; Pulse keeps its SHA-256."""
    require_owner(viewer)
    values = await form_fields(request)
    scopes = (await form_lists(request, "scopes"))["scopes"]
    view = await _tokens_view(ctx, viewer)
    try:
        body = validate(TokenIn, {"name": values.get("name", ""), "scopes": scopes}, {})
    except FormInvalid as exc:
        errors = exc.errors
        if "scopes" in errors:
            errors["scopes"] = "Tick at least one scope."
        view.update(errors=errors, values=values)
        return _page(
            request,
            "settings/tokens.html",
            "settings/tokens_body.html",
            error_status(request),
            **view,
        )
    created = await tokens_handlers.create_token(
        ctx.pool, viewer.principal, name=body.name, scopes=list(body.scopes)
    )
    view = await _tokens_view(ctx, viewer)
    view["created"] = created
    return _page(request, "settings/tokens.html", "settings/tokens_body.html", **view)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, ctx: ContextDep, viewer: ViewerDep, token_id: UUID
) -> Response:
    require_owner(viewer)
    await tokens_handlers.revoke_token(ctx.pool, viewer.principal, token_id)
    view = await _tokens_view(ctx, viewer)
    return _page(request, "settings/tokens.html", "settings/tokens_body.html", **view)


# ------------------------------------------------------------------------ alert thresholds

# (field, label, unit, help): the form in the order an account manager thinks about alerts.
THRESHOLDS = [
    (
        "deadline_warning_days",
        "Deadline warning",
        "days",
        "Warn when a booking has posts left this close to the end.",
    ),
    ("deadline_critical_days", "Deadline critical", "days", "Critical from this close to the end."),
    (
        "engagement_drop_factor",
        "Engagement drop factor",
        "×",
        "Alert when today's engagement rate falls below this share of yesterday's.",
    ),
    (
        "engagement_drop_min_views",
        "Engagement drop: minimum views",
        "views",
        "Ignore drops on posts with fewer views.",
    ),
    (
        "stale_interval_multiple",
        "Stale data: missed pulls",
        "× interval",
        "Data is stale after this many pull intervals without a sample.",
    ),
    (
        "stale_consecutive_failures",
        "Stale data: failed pulls",
        "pulls",
        "Or after this many failed pulls in a row.",
    ),
    (
        "stale_critical_hours",
        "Stale data critical",
        "hours",
        "Critical when nothing arrived for this long.",
    ),
    ("viral_min_views", "Viral: minimum views", "views", ""),
    ("viral_median_factor", "Viral: × campaign median", "×", ""),
    ("viral_median_min_posts", "Viral: posts needed for a median", "posts", ""),
    ("viral_followers_factor", "Viral: × followers", "×", ""),
    ("sentiment_min_comments", "Sentiment: minimum comments", "comments", ""),
    ("sentiment_warning_share", "Sentiment warning", "% negative", ""),
    ("sentiment_critical_share", "Sentiment critical", "% negative", ""),
    (
        "forecast_miss_min_remaining_pct",
        "Forecast miss: timeline left",
        "% of timeline",
        "Warn that a forecast misses its commitment only while this much of the timeline remains.",
    ),
    (
        "forecast_miss_margin_pct",
        "Forecast miss: share of commitment",
        "% committed",
        "Warn when the forecast's high end is below this share of the commitment.",
    ),
]
MILESTONES = ("milestone_1", "milestone_2", "milestone_3")


def _threshold_values(current: AlertThresholds) -> dict[str, str]:
    data = current.model_dump()
    values = {k: _plain(v) for k, v in data.items() if k != "under_kpi_milestones"}
    for name, value in zip(MILESTONES, data["under_kpi_milestones"], strict=True):
        values[name] = _plain(value)
    return values


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@router.get("/settings/alerts")
async def thresholds_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    current = await organizations_handlers.alert_thresholds(ctx.pool, viewer.principal)
    return render(
        request,
        "settings/alerts.html",
        fields=THRESHOLDS,
        errors={},
        values=_threshold_values(current),
        defaults=_threshold_values(AlertThresholds()),
        done=None,
    )


@router.post("/settings/alerts")
async def save_thresholds(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """Only the values that differ from what is in force are sent, so untouched defaults stay
    defaults (the handler validates the merged whole, as PUT /api/settings/alert-thresholds)."""
    require_manager(viewer)
    values = await form_fields(request)
    current = await organizations_handlers.alert_thresholds(ctx.pool, viewer.principal)
    errors: dict[str, str] = {}
    integers = {k for k, info in AlertThresholds.model_fields.items() if info.annotation is int}
    changes: dict[str, Any] = {}
    for name, *_ in THRESHOLDS:
        parsed = (whole_number if name in integers else decimal_number)(values, name, errors)
        if parsed is None and name not in errors:
            errors[name] = "This is required."
        elif parsed is not None and parsed != getattr(current, name):
            changes[name] = parsed
    milestones = [decimal_number(values, m, errors) for m in MILESTONES]
    if all(m is not None for m in milestones):
        if tuple(milestones) != tuple(current.under_kpi_milestones):
            changes["under_kpi_milestones"] = milestones
    else:
        errors.setdefault("milestone_1", "Enter three percentages, like 50, 80 and 95.")
    context: dict[str, Any] = {
        "fields": THRESHOLDS,
        "values": values,
        "defaults": _threshold_values(AlertThresholds()),
        "done": None,
    }
    if not errors and changes:
        try:
            current = await organizations_handlers.change_alert_thresholds(
                ctx.pool, viewer.principal, changes
            )
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors = handler_errors(exc)
            if "under_kpi_milestones" in errors:
                errors["milestone_1"] = errors.pop("under_kpi_milestones")
    if errors:
        return _page(
            request,
            "settings/alerts.html",
            "settings/alerts_form.html",
            error_status(request),
            errors=errors,
            **context,
        )
    context.update(values=_threshold_values(current), done="Thresholds saved.")
    return _page(request, "settings/alerts.html", "settings/alerts_form.html", errors={}, **context)


# ------------------------------------------------------------------- notification channels


async def _notifications_view(ctx: ContextDep, viewer: Viewer) -> dict[str, Any]:
    org_id = viewer.principal.org_id
    notices: list[str] = []
    channels = await optional(
        peers.channels(ctx, org_id, {"limit": "100"}),
        ChannelPage(items=[], next_cursor=None),
        notices,
    )
    logs = await asyncio.gather(
        *(
            optional(
                peers.deliveries(ctx, org_id, c.id, {"limit": "10"}),
                DeliveryPage(items=[], next_cursor=None),
                notices,
            )
            for c in channels.items
        )
    )
    deliveries = sorted(
        (
            {**d.model_dump(), "channel_name": c.name}
            for c, log in zip(channels.items, logs, strict=True)
            for d in log.items
        ),
        key=lambda d: d["created_at"],
        reverse=True,
    )[:30]
    return {
        "channels": channels.items,
        "deliveries": deliveries,
        "notices": sorted(set(notices)),
        "errors": {},
        "values": {"kind": "webhook", "format": "slack", "min_severity": "warning"},
        "created": None,
        "done": None,
        "severities": SEVERITIES,
    }


@router.get("/settings/notifications")
async def notifications_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """Where alerts are sent and how each delivery went (the alerter owns both)."""
    return render(request, "settings/notifications.html", **await _notifications_view(ctx, viewer))


def _notifications(request: Request, view: dict[str, Any], status: int = 200) -> Response:
    return _page(
        request,
        "settings/notifications.html",
        "settings/notifications_body.html",
        status,
        **view,
    )


@router.post("/settings/notifications/new")
async def create_channel(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """The same call as POST /api/notification-channels: the whole webhook URL and its signing
    secret are in this answer only."""
    require_manager(viewer)
    values = await form_fields(request)
    view = await _notifications_view(ctx, viewer)
    payload = {
        "kind": values.get("kind", ""),
        "name": values.get("name", ""),
        "target": values.get("target", ""),
        "format": values.get("format") or "json",
        "min_severity": values.get("min_severity") or "warning",
    }
    try:
        body = validate(ChannelIn, payload, {})
        created = await peers.create_channel(ctx, viewer.principal.org_id, body)
    except FormInvalid as exc:
        view.update(errors=exc.errors, values=values)
        return _notifications(request, view, error_status(request))
    except ApiError as exc:
        if exc.status != 422:
            raise
        view.update(errors=handler_errors(exc), values=values)
        return _notifications(request, view, error_status(request))
    view = await _notifications_view(ctx, viewer)
    view["created"] = created
    return _notifications(request, view)


@router.post("/settings/notifications/{channel_id}/test")
async def test_channel(
    request: Request, ctx: ContextDep, viewer: ViewerDep, channel_id: UUID
) -> Response:
    require_manager(viewer)
    await peers.send_test(ctx, viewer.principal.org_id, channel_id)
    view = await _notifications_view(ctx, viewer)
    view["done"] = "Test message queued: its delivery appears below within seconds."
    return _notifications(request, view)


@router.post("/settings/notifications/{channel_id}/delete")
async def delete_channel(
    request: Request, ctx: ContextDep, viewer: ViewerDep, channel_id: UUID
) -> Response:
    require_manager(viewer)
    await peers.delete_channel(ctx, viewer.principal.org_id, channel_id)
    view = await _notifications_view(ctx, viewer)
    view["done"] = "Channel removed, with its delivery log."
    return _notifications(request, view)
