"""The booking form (fee in units, commitments, terms) and the post URLs tracked under it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Request, Response

from pulse_contracts.post_urls import parse_post_url
from pulse_runtime.errors import ApiError

from ..db import org_read
from ..deps import ContextDep
from ..handlers import bookings as handlers
from ..handlers import posts as posts_handlers
from ..handlers.bookings import BookingIn, BookingPatch
from ..handlers.posts import PostIn
from ..repository import bookings as repo
from ..repository import campaigns as campaigns_repo
from ..repository import influencers as influencers_repo
from ..repository import posts as posts_repo
from .common import ViewerDep, page_router, render
from .forms_campaigns import campaign_of
from .forms_support import (
    decimal_number,
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
TEMPLATE = "forms/booking.html"
POST_TEMPLATE = "forms/post.html"
# The creators the booking form's menu offers, A to Z. Past a few thousand a menu is no way to
# choose; a search-as-you-type picker would be (not built yet).
CHOICES_LIMIT = 5000


def _payload(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
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


def _worded(errors: dict[str, str]) -> dict[str, str]:
    """The model names the fee in cents; the form asks for units."""
    if "fee_cents" in errors:
        errors.setdefault("fee", errors.pop("fee_cents"))
    return errors


async def _influencer_choices(
    ctx: ContextDep, viewer: ViewerDep, keep: UUID | None = None
) -> list[dict[str, Any]]:
    """The creators the form offers, A to Z, and always the booking's own (`keep`): the menu
    held the 500 creators added last, so editing an older creator's booking offered no choice
    that was its creator."""
    org_id = viewer.principal.org_id
    async with org_read(ctx.pool, org_id) as conn:
        # The menu shows names and tiers: no handles fetched for thousands of creators.
        rows = await influencers_repo.roster(conn, org_id=org_id, limit=CHOICES_LIMIT)
        if keep is not None and all(r["id"] != keep for r in rows):
            own = await influencers_repo.read_influencer(conn, org_id=org_id, influencer_id=keep)
            rows += [own] if own is not None else []
    return rows


async def _booking(
    ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The booking, its campaign and its tracked posts; 404 for another organization's."""
    org_id = viewer.principal.org_id
    async with org_read(ctx.pool, org_id) as conn:
        booking = await repo.read_booking(conn, org_id=org_id, booking_id=booking_id)
        if booking is None:
            raise ApiError(404, f"no booking {booking_id}")
        campaign = await campaigns_repo.read_campaign(
            conn, org_id=org_id, campaign_id=booking["campaign_id"]
        )
        posts = await posts_repo.posts_of_bookings(conn, org_id=org_id, booking_ids=[booking_id])
    if campaign is None:
        raise ApiError(404, f"no booking {booking_id}")
    return booking, campaign, posts


async def _save(
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
        "influencers": await _influencer_choices(
            ctx, viewer, booking["influencer_id"] if booking else None
        ),
        "posts": [],
    }

    async def submit() -> str:
        errors: dict[str, str] = {}
        payload = _payload(values, errors)
        if booking is None:
            body = validate(BookingIn, payload, errors)
            await handlers.create_booking(
                ctx.pool, viewer.principal, campaign["id"], body.model_dump()
            )
        else:
            patch = validate(BookingPatch, payload, errors)
            await handlers.update_booking(
                ctx.pool, viewer.principal, booking["id"], patch.model_dump()
            )
        return f"/campaigns/{campaign['id']}"

    return await form_post(request, TEMPLATE, context, submit, worded=_worded)


@router.get("/campaigns/{campaign_id}/bookings/new")
async def new_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    campaign = await campaign_of(ctx, viewer, campaign_id)
    return form_page(
        request,
        TEMPLATE,
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
    campaign = await campaign_of(ctx, viewer, campaign_id)
    return await _save(request, ctx, viewer, campaign, None)


@router.get("/bookings/{booking_id}/edit")
async def edit_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    booking, campaign, posts = await _booking(ctx, viewer, booking_id)
    values = {k: "" if booking[k] is None else str(booking[k]) for k in BookingPatch.model_fields}
    values["fee"] = units(booking["fee_cents"])
    return form_page(
        request,
        TEMPLATE,
        {},
        campaign=campaign,
        booking=booking,
        values=values,
        influencers=await _influencer_choices(ctx, viewer, booking["influencer_id"]),
        posts=posts,
    )


@router.post("/bookings/{booking_id}/edit")
async def update_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    booking, campaign, _ = await _booking(ctx, viewer, booking_id)
    return await _save(request, ctx, viewer, campaign, booking)


@router.post("/bookings/{booking_id}/delete")
async def delete_booking(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    _, campaign, _ = await _booking(ctx, viewer, booking_id)
    await handlers.delete_booking(ctx.pool, viewer.principal, booking_id)
    return done(request, f"/campaigns/{campaign['id']}")


# ---------------------------------------------------------------------------------- posts


@router.get("/bookings/{booking_id}/posts/new")
async def new_post(
    request: Request, ctx: ContextDep, viewer: ViewerDep, booking_id: UUID
) -> Response:
    require_manager(viewer)
    booking, campaign, posts = await _booking(ctx, viewer, booking_id)
    return form_page(
        request,
        POST_TEMPLATE,
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


def _url_worded(errors: dict[str, str]) -> dict[str, str]:
    """A handler's refusal of the URL (already tracked, unsupported) belongs beside it."""
    if "" in errors:
        errors["url"] = errors.pop("")
    return errors


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

    async def submit() -> str:
        body = validate(PostIn, {"url": values.get("url", "")}, {})
        await posts_handlers.register_post(ctx.pool, viewer.principal, booking_id, body.url)
        return f"/campaigns/{campaign['id']}"

    return await form_post(request, POST_TEMPLATE, context, submit, worded=_url_worded)


@router.post("/posts/{post_id}/remove")
async def remove_post(
    request: Request, ctx: ContextDep, viewer: ViewerDep, post_id: UUID
) -> Response:
    """Stop tracking a post (its history is kept); back to its booking's page."""
    require_manager(viewer)
    async with org_read(ctx.pool, viewer.principal.org_id) as conn:
        post = await posts_repo.read_post(conn, org_id=viewer.principal.org_id, post_id=post_id)
    if post is None:
        raise ApiError(404, f"no post {post_id}")
    await posts_handlers.remove_post(ctx.pool, viewer.principal, post_id)
    return done(request, f"/bookings/{post['booking_id']}/edit")
