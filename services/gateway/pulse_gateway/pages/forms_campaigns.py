"""The campaign form: client, dates, status, budget (in units) and commitments."""

from __future__ import annotations

from typing import Any, get_args
from uuid import UUID

from fastapi import Request, Response

from pulse_contracts.values import CampaignStatus
from pulse_runtime.errors import ApiError

from ..db import org_read
from ..deps import ContextDep
from ..handlers import campaigns as handlers
from ..handlers.campaigns import CampaignIn, CampaignPatch
from ..repository import campaigns as repo
from ..repository import clients as clients_repo
from .common import ViewerDep, page_router
from .forms_support import (
    done,
    form_fields,
    form_page,
    form_post,
    money_cents,
    require_manager,
    units,
    validate,
    whole_number,
)

router = page_router()
TEMPLATE = "forms/campaign.html"
STATUSES: tuple[str, ...] = get_args(CampaignStatus)
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK", "JPY")


def _payload(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "client_id": values.get("client_id") or None,
        "name": values.get("name", ""),
        "status": values.get("status") or "draft",
        "start_date": values.get("start_date") or None,
        "end_date": values.get("end_date") or None,
        "budget_cents": money_cents(values, "budget", errors),
        "currency": (values.get("currency") or "").upper(),
        "committed_views": whole_number(values, "committed_views", errors),
        "committed_engagement": whole_number(values, "committed_engagement", errors),
        "notes": values.get("notes", ""),
    }


def _worded(errors: dict[str, str]) -> dict[str, str]:
    """The model names money in cents; the form asks for units."""
    if "budget_cents" in errors:
        errors["budget"] = errors.pop("budget_cents").replace(
            "Enter 0 or more.", "The amount cannot be negative."
        )
    return errors


async def _choices(ctx: ContextDep, viewer: ViewerDep) -> dict[str, Any]:
    async with org_read(ctx.pool, viewer.principal.org_id) as conn:
        clients = await clients_repo.list_clients(
            conn, org_id=viewer.principal.org_id, after=None, limit=500
        )
    return {
        "clients": sorted(clients, key=lambda c: c["name"].lower()),
        "statuses": STATUSES,
        "currencies": CURRENCIES,
    }


async def campaign_of(ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID) -> dict[str, Any]:
    """The organization's campaign, or the 404 a missing one (or another's) gets."""
    async with org_read(ctx.pool, viewer.principal.org_id) as conn:
        row = await repo.read_campaign(
            conn, org_id=viewer.principal.org_id, campaign_id=campaign_id
        )
    if row is None:
        raise ApiError(404, f"no campaign {campaign_id}")
    return row


async def _save(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign: dict[str, Any] | None
) -> Response:
    values = await form_fields(request)
    context = {"campaign": campaign, "values": values, **await _choices(ctx, viewer)}

    async def submit() -> str:
        errors: dict[str, str] = {}
        payload = _payload(values, errors)
        if campaign is None:
            body = validate(CampaignIn, payload, errors)
            row = await handlers.create_campaign(ctx.pool, viewer.principal, body.model_dump())
        else:
            patch = validate(CampaignPatch, payload, errors)
            row = await handlers.update_campaign(
                ctx.pool, viewer.principal, campaign["id"], patch.model_dump()
            )
        return f"/campaigns/{row['id']}"

    return await form_post(request, TEMPLATE, context, submit, worded=_worded)


@router.get("/campaigns/new")
async def new_campaign(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    values = {"status": "draft", "currency": "EUR"}
    return form_page(
        request, TEMPLATE, {}, campaign=None, values=values, **await _choices(ctx, viewer)
    )


@router.post("/campaigns/new")
async def create_campaign(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return await _save(request, ctx, viewer, None)


@router.get("/campaigns/{campaign_id}/edit")
async def edit_campaign(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    campaign = await campaign_of(ctx, viewer, campaign_id)
    values = {
        k: "" if campaign[k] is None else str(campaign[k]) for k in CampaignPatch.model_fields
    }
    values["budget"] = units(campaign["budget_cents"])
    return form_page(
        request, TEMPLATE, {}, campaign=campaign, values=values, **await _choices(ctx, viewer)
    )


@router.post("/campaigns/{campaign_id}/edit")
async def update_campaign(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    campaign = await campaign_of(ctx, viewer, campaign_id)
    return await _save(request, ctx, viewer, campaign)


@router.post("/campaigns/{campaign_id}/delete")
async def delete_campaign(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    await campaign_of(ctx, viewer, campaign_id)
    await handlers.delete_campaign(ctx.pool, viewer.principal, campaign_id)
    return done(request, "/campaigns")
