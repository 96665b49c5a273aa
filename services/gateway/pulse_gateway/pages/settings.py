"""/settings: people and their roles and API tokens (owners), and the page shell every settings
tab shares (settings_page); alert thresholds, notifications, EMV rates and the API limit have
their own modules (settings_*.py). Each over the same handlers and peers as /api."""

from __future__ import annotations

from typing import Any, get_args
from uuid import UUID

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from pulse_contracts.values import Severity, TokenScope
from pulse_runtime.errors import ApiError

from ..db import org_transaction
from ..deps import ContextDep
from ..handlers import accounts
from ..handlers import tokens as tokens_handlers
from ..handlers.accounts import RoleName, UserIn, UserPatch
from ..handlers.tokens import TokenIn
from ..repository import tokens as tokens_repo
from ..repository import users as users_repo
from .common import Viewer, ViewerDep, is_fragment_request, page_router, render
from .forms_support import (
    FormInvalid,
    error_status,
    form_fields,
    form_lists,
    handler_errors,
    require_owner,
    validate,
)

router = page_router()
ROLES: tuple[str, ...] = get_args(RoleName)
SCOPES: tuple[str, ...] = get_args(TokenScope)
SEVERITIES: tuple[str, ...] = get_args(Severity)


@router.get("/settings")
async def settings_home(viewer: ViewerDep) -> Response:
    """Owners land on their people; everyone else on the alert thresholds they can read."""
    return RedirectResponse("/settings/users" if viewer.is_owner else "/settings/alerts", 303)


def settings_page(
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
        return settings_page(
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
        return settings_page(
            request,
            "settings/users.html",
            "settings/users_body.html",
            error_status(request),
            **view,
        )
    view = await _users_view(ctx, viewer)
    view["done"] = f"{row['email']} can now sign in as {row['role']}."
    return settings_page(request, "settings/users.html", "settings/users_body.html", **view)


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
    return settings_page(request, "settings/users.html", "settings/users_body.html", **view)


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
        return settings_page(
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
    return settings_page(request, "settings/tokens.html", "settings/tokens_body.html", **view)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, ctx: ContextDep, viewer: ViewerDep, token_id: UUID
) -> Response:
    require_owner(viewer)
    await tokens_handlers.revoke_token(ctx.pool, viewer.principal, token_id)
    view = await _tokens_view(ctx, viewer)
    return settings_page(request, "settings/tokens.html", "settings/tokens_body.html", **view)


# ------------------------------------------------------------------------ alert thresholds

# (field, label, unit, help): the form in the order an account manager thinks about alerts.
