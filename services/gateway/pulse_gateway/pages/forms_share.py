"""/campaigns/{id}/share-links: the client's read-only links of a campaign: their views, last
view, expiry and state; create one (its URL is shown once) or revoke one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from fastapi import Request, Response

from pulse_contracts import utcnow
from pulse_runtime.errors import ApiError

from .. import peers
from ..db import org_read
from ..deps import ContextDep
from ..handlers import share_links
from ..handlers.share_links import ShareLinkIn
from ..repository import campaigns as campaigns_repo
from .common import ViewerDep, is_fragment_request, optional, page_router, render
from .forms_support import FormInvalid, error_status, form_fields, require_manager, validate

router = page_router()


async def _view(ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID) -> dict[str, Any]:
    org_id = viewer.principal.org_id
    async with org_read(ctx.pool, org_id) as conn:
        campaign = await campaigns_repo.read_campaign(conn, org_id=org_id, campaign_id=campaign_id)
    if campaign is None:
        raise ApiError(404, f"no campaign {campaign_id}")
    notices: list[str] = []
    links = await optional(peers.list_links(ctx, org_id, campaign_id), [], notices)
    links.sort(key=lambda link: link.created_at, reverse=True)
    return {
        "campaign": campaign,
        "links": links,
        "notices": notices,
        "created": None,
        "errors": {},
        "values": {},
        "min_date": (utcnow().date()).isoformat(),
    }


def _page(request: Request, view: dict[str, Any], status: int = 200) -> Response:
    fragment = is_fragment_request(request) and request.method == "POST"
    template = "forms/share_links_body.html" if fragment else "forms/share_links.html"
    return render(request, template, status_code=status, **view)


@router.get("/campaigns/{campaign_id}/share-links")
async def share_links_page(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    return _page(request, await _view(ctx, viewer, campaign_id))


@router.get("/campaigns/{campaign_id}/share-links/new")
async def new_share_link(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    """The campaign page's "Create share link": the same page, its form first."""
    require_manager(viewer)
    return _page(request, await _view(ctx, viewer, campaign_id))


def _expiry(raw: str, errors: dict[str, str]) -> datetime | None:
    """A day in the form: the link works until the end of that day (UTC)."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors["expires_on"] = "Enter a valid date."
        return None
    if day < utcnow().date():
        errors["expires_on"] = "Choose today or a later day."
        return None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


@router.post("/campaigns/{campaign_id}/share-links/new")
async def create_link(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    """The same creation as POST /api/campaigns/{id}/share-links (audited); the URL with its
    token is in this answer only."""
    require_manager(viewer)
    view = await _view(ctx, viewer, campaign_id)
    values = await form_fields(request)
    errors: dict[str, str] = {}
    try:
        payload = {
            "expires_at": _expiry(values.get("expires_on", ""), errors),
            "password": values.get("password") or None,
            "show_forecast": values.get("show_forecast") == "on",
            "show_emv": values.get("show_emv") == "on",
        }
        body = validate(ShareLinkIn, payload, errors)
    except FormInvalid as exc:
        view.update(errors=exc.errors, values=values)
        return _page(request, view, error_status(request))
    created = await share_links.create_link(ctx, ctx.pool, viewer.principal, campaign_id, body)
    view = await _view(ctx, viewer, campaign_id)
    view["created"] = created
    return _page(request, view)


@router.post("/share-links/{link_id}/revoke")
async def revoke_link(
    request: Request, ctx: ContextDep, viewer: ViewerDep, link_id: UUID
) -> Response:
    require_manager(viewer)
    try:
        campaign_id = UUID((await form_fields(request)).get("campaign_id", ""))
    except ValueError as exc:
        raise ApiError(422, "This request names no campaign.") from exc
    await share_links.revoke_link(ctx, ctx.pool, viewer.principal, link_id)
    return _page(request, await _view(ctx, viewer, campaign_id))
