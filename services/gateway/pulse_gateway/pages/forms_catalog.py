"""Forms for the agency's catalog: clients, influencers, campaigns, bookings and post URLs.

Each validates with its /api route's model and calls the same handler (see forms_support)."""

from __future__ import annotations

from typing import Any, get_args
from uuid import UUID

from fastapi import Request, Response
from pydantic import BaseModel

from pulse_contracts.post_urls import parse_post_url
from pulse_contracts.values import CampaignStatus, Platform
from pulse_runtime.errors import ApiError

from ..api.bookings import BookingIn, BookingPatch
from ..api.campaigns import CampaignIn, CampaignPatch
from ..api.clients import ClientIn, ClientPatch
from ..api.influencers import InfluencerIn, InfluencerPatch
from ..api.posts import PostIn
from ..db import org_transaction
from ..deps import ContextDep
from ..handlers import bookings as bookings_handlers
from ..handlers import campaigns as campaigns_handlers
from ..handlers import clients as clients_handlers
from ..handlers import influencers as influencers_handlers
from ..handlers import posts as posts_handlers
from ..repository import bookings as bookings_repo
from ..repository import campaigns as campaigns_repo
from ..repository import clients as clients_repo
from ..repository import influencers as influencers_repo
from ..repository import posts as posts_repo
from .common import ViewerDep, is_fragment_request, page_router, render
from .forms_support import (
    FormInvalid,
    decimal_number,
    done,
    error_status,
    form_fields,
    form_lists,
    handler_errors,
    money_cents,
    optional_text,
    require_manager,
    validate,
    whole_number,
)

router = page_router()

STATUSES: tuple[str, ...] = get_args(CampaignStatus)
PLATFORMS: tuple[str, ...] = get_args(Platform)
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK", "JPY")


def _form(
    request: Request, template: str, errors: dict[str, str], *, status: int = 200, **context: Any
) -> Response:
    """The whole page, or (for an htmx submit) the form alone, with its messages."""
    fragment = is_fragment_request(request) and request.method == "POST"
    name = template.replace(".html", "_form.html") if fragment else template
    return render(request, name, status_code=status, errors=errors, **context)


def _changes(model: BaseModel, editable: tuple[str, ...]) -> dict[str, Any]:
    """Every editable field as the form set it (an emptied optional box clears it)."""
    data = model.model_dump()
    return {k: data[k] for k in editable if k in data}


# ------------------------------------------------------------------------------- clients


@router.get("/clients")
async def clients_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    org_id = viewer.principal.org_id
    async with org_transaction(ctx.pool, org_id) as conn:
        clients = await clients_repo.list_clients(conn, org_id=org_id, after=None, limit=500)
        campaigns = await campaigns_repo.list_campaigns(
            conn, org_id=org_id, status=None, client_id=None, q=None, after=None, limit=500
        )
    counts: dict[UUID, int] = {}
    for c in campaigns:
        counts[c["client_id"]] = counts.get(c["client_id"], 0) + 1
    rows = [{**c, "campaigns": counts.get(c["id"], 0)} for c in clients]
    rows.sort(key=lambda c: c["name"].lower())
    return render(request, "clients.html", clients=rows)


def _client_payload(values: dict[str, str]) -> dict[str, Any]:
    color = values.get("brand_color") or None
    return {
        "name": values.get("name", ""),
        "brand_color": color.upper() if color and color.startswith("#") else color,
        "logo_url": optional_text(values, "logo_url"),
    }


@router.get("/clients/new")
async def new_client(request: Request, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return _form(request, "forms/client.html", {}, client=None, values={})


@router.post("/clients/new")
async def create_client(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    values = await form_fields(request)
    try:
        body = validate(ClientIn, _client_payload(values), {})
        await clients_handlers.create_client(ctx.pool, viewer.principal, body.model_dump())
    except FormInvalid as exc:
        return _form(
            request,
            "forms/client.html",
            exc.errors,
            status=error_status(request),
            client=None,
            values=values,
        )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return _form(
            request,
            "forms/client.html",
            handler_errors(exc),
            status=error_status(request),
            client=None,
            values=values,
        )
    return done(request, "/clients")


async def _client(ctx: ContextDep, viewer: ViewerDep, client_id: UUID) -> dict[str, Any]:
    async with org_transaction(ctx.pool, viewer.principal.org_id) as conn:
        row = await clients_repo.get_client(
            conn, org_id=viewer.principal.org_id, client_id=client_id
        )
    if row is None:
        raise ApiError(404, f"no client {client_id}")
    return row


@router.get("/clients/{client_id}/edit")
async def edit_client(
    request: Request, ctx: ContextDep, viewer: ViewerDep, client_id: UUID
) -> Response:
    require_manager(viewer)
    client = await _client(ctx, viewer, client_id)
    values = {k: client[k] or "" for k in ("name", "brand_color", "logo_url")}
    return _form(request, "forms/client.html", {}, client=client, values=values)


@router.post("/clients/{client_id}/edit")
async def update_client(
    request: Request, ctx: ContextDep, viewer: ViewerDep, client_id: UUID
) -> Response:
    require_manager(viewer)
    client = await _client(ctx, viewer, client_id)
    values = await form_fields(request)
    try:
        body = validate(ClientPatch, _client_payload(values), {})
        changes = _changes(body, ("name", "brand_color", "logo_url"))
        await clients_handlers.update_client(ctx.pool, viewer.principal, client_id, changes)
    except FormInvalid as exc:
        return _form(
            request,
            "forms/client.html",
            exc.errors,
            status=error_status(request),
            client=client,
            values=values,
        )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return _form(
            request,
            "forms/client.html",
            handler_errors(exc),
            status=error_status(request),
            client=client,
            values=values,
        )
    return done(request, "/clients")


@router.post("/clients/{client_id}/delete")
async def delete_client(
    request: Request, ctx: ContextDep, viewer: ViewerDep, client_id: UUID
) -> Response:
    require_manager(viewer)
    client = await _client(ctx, viewer, client_id)
    try:
        await clients_handlers.delete_client(ctx.pool, viewer.principal, client_id)
    except ApiError as exc:
        if exc.status != 409:
            raise
        values = {k: client[k] or "" for k in ("name", "brand_color", "logo_url")}
        return _form(
            request,
            "forms/client.html",
            handler_errors(exc),
            status=error_status(request),
            client=client,
            values=values,
        )
    return done(request, "/clients")


# ---------------------------------------------------------------------------- influencers


def _influencer_payload(
    values: dict[str, str], rows: dict[str, list[str]], errors: dict[str, str]
) -> dict[str, Any]:
    handles: list[dict[str, Any]] = []
    for platform, handle, followers in zip(
        rows["handle_platform"], rows["handle_name"], rows["handle_followers"], strict=False
    ):
        if not handle and not followers:
            continue  # an empty row is no handle
        count = whole_number({"f": followers}, "f", errors)
        if "f" in errors:
            errors[f"handles.{len(handles)}.followers"] = errors.pop("f")
        handles.append({"platform": platform, "handle": handle, "followers": count})
    return {
        "display_name": values.get("display_name", ""),
        "avatar_url": optional_text(values, "avatar_url"),
        "tier": optional_text(values, "tier"),
        "notes": values.get("notes", ""),
        "handles": handles,
    }


def _handle_rows(rows: dict[str, list[str]]) -> list[dict[str, str]]:
    shown = [
        {"platform": p, "handle": h, "followers": f}
        for p, h, f in zip(
            rows["handle_platform"], rows["handle_name"], rows["handle_followers"], strict=False
        )
        if h or f
    ]
    return shown or [{"platform": "tiktok", "handle": "", "followers": ""}]


async def _influencer_form_post(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer: dict[str, Any] | None
) -> Response:
    values = await form_fields(request)
    rows = await form_lists(request, "handle_platform", "handle_name", "handle_followers")
    errors: dict[str, str] = {}
    context = {
        "influencer": influencer,
        "values": values,
        "handles": _handle_rows(rows),
        "platforms": PLATFORMS,
    }
    try:
        payload = _influencer_payload(values, rows, errors)
        if influencer is None:
            body = validate(InfluencerIn, payload, errors)
            row = await influencers_handlers.create_influencer(
                ctx.pool, viewer.principal, body.model_dump()
            )
        else:
            patch = validate(InfluencerPatch, payload, errors)
            changes = _changes(patch, ("display_name", "avatar_url", "tier", "notes", "handles"))
            row = await influencers_handlers.update_influencer(
                ctx.pool, viewer.principal, influencer["id"], changes
            )
    except FormInvalid as exc:
        return _form(
            request, "forms/influencer.html", exc.errors, status=error_status(request), **context
        )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return _form(
            request,
            "forms/influencer.html",
            handler_errors(exc),
            status=error_status(request),
            **context,
        )
    return done(request, f"/influencers/{row['id']}")


@router.get("/influencers/new")
async def new_influencer(request: Request, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return _form(
        request,
        "forms/influencer.html",
        {},
        influencer=None,
        values={},
        handles=[{"platform": "tiktok", "handle": "", "followers": ""}],
        platforms=PLATFORMS,
    )


@router.post("/influencers/new")
async def create_influencer(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return await _influencer_form_post(request, ctx, viewer, None)


async def _influencer(ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID) -> dict[str, Any]:
    async with org_transaction(ctx.pool, viewer.principal.org_id) as conn:
        row = await influencers_repo.get_influencer(
            conn, org_id=viewer.principal.org_id, influencer_id=influencer_id
        )
    if row is None:
        raise ApiError(404, f"no influencer {influencer_id}")
    return row


@router.get("/influencers/{influencer_id}/edit")
async def edit_influencer(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID
) -> Response:
    require_manager(viewer)
    influencer = await _influencer(ctx, viewer, influencer_id)
    values = {k: influencer[k] or "" for k in ("display_name", "avatar_url", "tier", "notes")}
    handles = [
        {
            "platform": h["platform"],
            "handle": h["handle"],
            "followers": "" if h["followers"] is None else str(h["followers"]),
        }
        for h in influencer["handles"]
    ] or [{"platform": "tiktok", "handle": "", "followers": ""}]
    return _form(
        request,
        "forms/influencer.html",
        {},
        influencer=influencer,
        values=values,
        handles=handles,
        platforms=PLATFORMS,
    )


@router.post("/influencers/{influencer_id}/edit")
async def update_influencer(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID
) -> Response:
    require_manager(viewer)
    influencer = await _influencer(ctx, viewer, influencer_id)
    return await _influencer_form_post(request, ctx, viewer, influencer)


@router.post("/influencers/{influencer_id}/delete")
async def delete_influencer(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID
) -> Response:
    require_manager(viewer)
    influencer = await _influencer(ctx, viewer, influencer_id)
    try:
        await influencers_handlers.delete_influencer(ctx.pool, viewer.principal, influencer_id)
    except ApiError as exc:
        if exc.status != 409:
            raise
        values = {k: influencer[k] or "" for k in ("display_name", "avatar_url", "tier", "notes")}
        handles = [{**h, "followers": str(h["followers"] or "")} for h in influencer["handles"]]
        return _form(
            request,
            "forms/influencer.html",
            handler_errors(exc),
            status=error_status(request),
            influencer=influencer,
            values=values,
            handles=handles,
            platforms=PLATFORMS,
        )
    return done(request, "/influencers")


# ------------------------------------------------------------------------------ campaigns

CAMPAIGN_FIELDS = (
    "client_id",
    "name",
    "status",
    "start_date",
    "end_date",
    "budget_cents",
    "currency",
    "committed_views",
    "committed_engagement",
    "notes",
)


def _campaign_payload(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
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


async def _campaign_choices(ctx: ContextDep, viewer: ViewerDep) -> dict[str, Any]:
    async with org_transaction(ctx.pool, viewer.principal.org_id) as conn:
        clients = await clients_repo.list_clients(
            conn, org_id=viewer.principal.org_id, after=None, limit=500
        )
    return {
        "clients": sorted(clients, key=lambda c: c["name"].lower()),
        "statuses": STATUSES,
        "currencies": CURRENCIES,
    }


def _campaign_errors(errors: dict[str, str]) -> dict[str, str]:
    """The model names money in cents; the form asks for units."""
    if "budget_cents" in errors:
        errors["budget"] = errors.pop("budget_cents").replace(
            "Enter 0 or more.", "The amount cannot be negative."
        )
    return errors


async def _campaign_form_post(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign: dict[str, Any] | None
) -> Response:
    values = await form_fields(request)
    context = {"campaign": campaign, "values": values, **await _campaign_choices(ctx, viewer)}
    errors: dict[str, str] = {}
    try:
        payload = _campaign_payload(values, errors)
        if campaign is None:
            body = validate(CampaignIn, payload, errors)
            row = await campaigns_handlers.create_campaign(
                ctx.pool, viewer.principal, body.model_dump()
            )
        else:
            patch = validate(CampaignPatch, payload, errors)
            row = await campaigns_handlers.update_campaign(
                ctx.pool, viewer.principal, campaign["id"], _changes(patch, CAMPAIGN_FIELDS)
            )
    except FormInvalid as exc:
        return _form(
            request,
            "forms/campaign.html",
            _campaign_errors(exc.errors),
            status=error_status(request),
            **context,
        )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return _form(
            request,
            "forms/campaign.html",
            _campaign_errors(handler_errors(exc)),
            status=error_status(request),
            **context,
        )
    return done(request, f"/campaigns/{row['id']}")


@router.get("/campaigns/new")
async def new_campaign(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    values = {"status": "draft", "currency": "EUR"}
    return _form(
        request,
        "forms/campaign.html",
        {},
        campaign=None,
        values=values,
        **await _campaign_choices(ctx, viewer),
    )


@router.post("/campaigns/new")
async def create_campaign(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return await _campaign_form_post(request, ctx, viewer, None)


async def _campaign(ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID) -> dict[str, Any]:
    async with org_transaction(ctx.pool, viewer.principal.org_id) as conn:
        row = await campaigns_repo.get_campaign(
            conn, org_id=viewer.principal.org_id, campaign_id=campaign_id
        )
    if row is None:
        raise ApiError(404, f"no campaign {campaign_id}")
    return row


def _units(cents: int | None) -> str:
    return "" if cents is None else f"{cents / 100:.2f}".removesuffix(".00")


@router.get("/campaigns/{campaign_id}/edit")
async def edit_campaign(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    campaign = await _campaign(ctx, viewer, campaign_id)
    values = {k: "" if campaign[k] is None else str(campaign[k]) for k in CAMPAIGN_FIELDS}
    values["budget"] = _units(campaign["budget_cents"])
    return _form(
        request,
        "forms/campaign.html",
        {},
        campaign=campaign,
        values=values,
        **await _campaign_choices(ctx, viewer),
    )


@router.post("/campaigns/{campaign_id}/edit")
async def update_campaign(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    campaign = await _campaign(ctx, viewer, campaign_id)
    return await _campaign_form_post(request, ctx, viewer, campaign)


@router.post("/campaigns/{campaign_id}/delete")
async def delete_campaign(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    await _campaign(ctx, viewer, campaign_id)
    await campaigns_handlers.delete_campaign(ctx.pool, viewer.principal, campaign_id)
    return done(request, "/campaigns")


# ------------------------------------------------------------------------------- bookings

BOOKING_FIELDS = (
    "influencer_id",
    "fee_cents",
    "committed_views",
    "committed_engagement",
    "committed_posts",
    "min_engagement_rate",
    "exclusivity_days",
    "usage_rights_days",
    "notes",
)


def _booking_payload(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    fee = money_cents(values, "fee", errors)
    if fee is None and "fee" not in errors:
        errors["fee"] = "Enter the fee (0 for a gifted collaboration)."
    return {
        "influencer_id": values.get("influencer_id") or None,
        "fee_cents": fee if fee is not None else 0,
        "committed_views": whole_number(values, "committed_views", errors),
        "committed_engagement": whole_number(values, "committed_engagement", errors),
        "committed_posts": whole_number(values, "committed_posts", errors),
        "min_engagement_rate": decimal_number(values, "min_engagement_rate", errors),
        "exclusivity_days": whole_number(values, "exclusivity_days", errors),
        "usage_rights_days": whole_number(values, "usage_rights_days", errors),
        "notes": values.get("notes", ""),
    }


async def _influencer_choices(ctx: ContextDep, viewer: ViewerDep) -> list[dict[str, Any]]:
    async with org_transaction(ctx.pool, viewer.principal.org_id) as conn:
        rows = await influencers_repo.list_influencers(
            conn, org_id=viewer.principal.org_id, q=None, after=None, limit=500
        )
    return sorted(rows, key=lambda r: r["display_name"].lower())


async def _booking_form_post(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    campaign: dict[str, Any],
    booking: dict[str, Any] | None,
) -> Response:
    values = await form_fields(request)
    context = {
        "campaign": campaign,
        "booking": booking,
        "values": values,
        "influencers": await _influencer_choices(ctx, viewer),
        "posts": [],
    }
    errors: dict[str, str] = {}
    try:
        payload = _booking_payload(values, errors)
        if booking is None:
            body = validate(BookingIn, payload, errors)
            await bookings_handlers.create_booking(
                ctx.pool, viewer.principal, campaign["id"], body.model_dump()
            )
        else:
            patch = validate(BookingPatch, payload, errors)
            await bookings_handlers.update_booking(
                ctx.pool, viewer.principal, booking["id"], _changes(patch, BOOKING_FIELDS)
            )
    except FormInvalid as exc:
        return _form(
            request,
            "forms/booking.html",
            _booking_errors(exc.errors),
            status=error_status(request),
            **context,
        )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return _form(
            request,
            "forms/booking.html",
            _booking_errors(handler_errors(exc)),
            status=error_status(request),
            **context,
        )
    return done(request, f"/campaigns/{campaign['id']}")


def _booking_errors(errors: dict[str, str]) -> dict[str, str]:
    if "fee_cents" in errors:
        errors.setdefault("fee", errors.pop("fee_cents"))
    return errors


@router.get("/campaigns/{campaign_id}/bookings/new")
async def new_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    campaign = await _campaign(ctx, viewer, campaign_id)
    return _form(
        request,
        "forms/booking.html",
        {},
        campaign=campaign,
        booking=None,
        values={},
        influencers=await _influencer_choices(ctx, viewer),
        posts=[],
    )


@router.post("/campaigns/{campaign_id}/bookings/new")
async def create_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    campaign = await _campaign(ctx, viewer, campaign_id)
    return await _booking_form_post(request, ctx, viewer, campaign, None)


async def _booking(
    ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    org_id = viewer.principal.org_id
    async with org_transaction(ctx.pool, org_id) as conn:
        booking = await bookings_repo.get_booking(conn, org_id=org_id, booking_id=booking_id)
        if booking is None:
            raise ApiError(404, f"no booking {booking_id}")
        campaign = await campaigns_repo.get_campaign(
            conn, org_id=org_id, campaign_id=booking["campaign_id"]
        )
        posts = await posts_repo.posts_of_bookings(conn, org_id=org_id, booking_ids=[booking_id])
    if campaign is None:
        raise ApiError(404, f"no booking {booking_id}")
    return booking, campaign, posts


@router.get("/bookings/{booking_id}/edit")
async def edit_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    booking, campaign, posts = await _booking(ctx, viewer, booking_id)
    values = {k: "" if booking[k] is None else str(booking[k]) for k in BOOKING_FIELDS}
    values["fee"] = _units(booking["fee_cents"])
    return _form(
        request,
        "forms/booking.html",
        {},
        campaign=campaign,
        booking=booking,
        values=values,
        influencers=await _influencer_choices(ctx, viewer),
        posts=posts,
    )


@router.post("/bookings/{booking_id}/edit")
async def update_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    booking, campaign, _ = await _booking(ctx, viewer, booking_id)
    return await _booking_form_post(request, ctx, viewer, campaign, booking)


@router.post("/bookings/{booking_id}/delete")
async def delete_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    _, campaign, _ = await _booking(ctx, viewer, booking_id)
    await bookings_handlers.delete_booking(ctx.pool, viewer.principal, booking_id)
    return done(request, f"/campaigns/{campaign['id']}")


# ---------------------------------------------------------------------------------- posts


@router.get("/bookings/{booking_id}/posts/new")
async def new_post(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    booking, campaign, posts = await _booking(ctx, viewer, booking_id)
    return _form(
        request,
        "forms/post.html",
        {},
        booking=booking,
        campaign=campaign,
        posts=posts,
        values={},
        parsed=None,
    )


@router.get("/bookings/{booking_id}/posts/parse")
async def parse_post(
    request: Request, viewer: ViewerDep, booking_id: UUID, url: str = ""
) -> Response:
    """The platform a pasted URL belongs to, shown as the person types."""
    return render(request, "forms/post_parsed.html", parsed=_parsed(url))


def _parsed(url: str) -> dict[str, Any] | None:
    if not url.strip():
        return None
    try:
        found = parse_post_url(url.strip()[:4096])
    except ValueError as exc:
        return {"error": str(exc)}
    return {"platform": found.platform, "url": found.url, "post_id": found.platform_post_id}


@router.post("/bookings/{booking_id}/posts/new")
async def create_post(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    booking, campaign, posts = await _booking(ctx, viewer, booking_id)
    values = await form_fields(request)
    context = {
        "booking": booking,
        "campaign": campaign,
        "posts": posts,
        "values": values,
        "parsed": _parsed(values.get("url", "")),
    }
    try:
        body = validate(PostIn, {"url": values.get("url", "")}, {})
        await posts_handlers.register_post(ctx.pool, viewer.principal, booking_id, body.url)
    except FormInvalid as exc:
        return _form(
            request, "forms/post.html", exc.errors, status=error_status(request), **context
        )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = handler_errors(exc)
        if "" in errors:
            errors["url"] = errors.pop("")
        return _form(request, "forms/post.html", errors, status=error_status(request), **context)
    return done(request, f"/campaigns/{campaign['id']}")


@router.post("/posts/{post_id}/remove")
async def remove_post(
    request: Request, ctx: ContextDep, viewer: ViewerDep, post_id: UUID
) -> Response:
    """Stop tracking a post (its history is kept); back to its booking's page."""
    require_manager(viewer)
    async with org_transaction(ctx.pool, viewer.principal.org_id) as conn:
        post = await posts_repo.get_post(conn, org_id=viewer.principal.org_id, post_id=post_id)
    if post is None:
        raise ApiError(404, f"no post {post_id}")
    await posts_handlers.remove_post(ctx.pool, viewer.principal, post_id)
    return done(request, f"/bookings/{post['booking_id']}/edit")
