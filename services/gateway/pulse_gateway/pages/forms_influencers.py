"""The influencer form: name, tier, notes and one row per platform handle."""

from __future__ import annotations

from typing import Any, get_args
from uuid import UUID

from fastapi import Request, Response

from pulse_contracts.values import Platform
from pulse_runtime.errors import ApiError

from ..db import org_read
from ..deps import ContextDep
from ..handlers import influencers as handlers
from ..handlers.influencers import InfluencerIn, InfluencerPatch
from ..repository import influencers as repo
from .common import ViewerDep, page_router
from .forms_support import (
    form_fields,
    form_lists,
    form_page,
    form_post,
    optional_text,
    require_manager,
    validate,
    whole_number,
)

router = page_router()
TEMPLATE = "forms/influencer.html"
PLATFORMS: tuple[str, ...] = get_args(Platform)
EMPTY_ROW = {"platform": "tiktok", "handle": "", "followers": ""}
TEXT_FIELDS = ("display_name", "avatar_url", "tier", "notes")


def _payload(
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


def _posted_rows(rows: dict[str, list[str]]) -> list[dict[str, str]]:
    shown = [
        {"platform": p, "handle": h, "followers": f}
        for p, h, f in zip(
            rows["handle_platform"], rows["handle_name"], rows["handle_followers"], strict=False
        )
        if h or f
    ]
    return shown or [EMPTY_ROW]


def _stored(influencer: dict[str, Any]) -> dict[str, Any]:
    """The form as the stored influencer fills it."""
    handles = [
        {
            "platform": h["platform"],
            "handle": h["handle"],
            "followers": "" if h["followers"] is None else str(h["followers"]),
        }
        for h in influencer["handles"]
    ]
    return {
        "influencer": influencer,
        "values": {k: influencer[k] or "" for k in TEXT_FIELDS},
        "handles": handles or [EMPTY_ROW],
        "platforms": PLATFORMS,
    }


async def _influencer(ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID) -> dict[str, Any]:
    async with org_read(ctx.pool, viewer.principal.org_id) as conn:
        row = await repo.read_influencer(
            conn, org_id=viewer.principal.org_id, influencer_id=influencer_id
        )
    if row is None:
        raise ApiError(404, f"no influencer {influencer_id}")
    return row


async def _save(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer: dict[str, Any] | None
) -> Response:
    values = await form_fields(request)
    rows = await form_lists(request, "handle_platform", "handle_name", "handle_followers")
    context = {
        "influencer": influencer,
        "values": values,
        "handles": _posted_rows(rows),
        "platforms": PLATFORMS,
    }

    async def submit() -> str:
        errors: dict[str, str] = {}
        payload = _payload(values, rows, errors)
        if influencer is None:
            body = validate(InfluencerIn, payload, errors)
            row = await handlers.create_influencer(ctx.pool, viewer.principal, body.model_dump())
        else:
            patch = validate(InfluencerPatch, payload, errors)
            row = await handlers.update_influencer(
                ctx.pool, viewer.principal, influencer["id"], patch.model_dump()
            )
        return f"/influencers/{row['id']}"

    return await form_post(request, TEMPLATE, context, submit)


@router.get("/influencers/new")
async def new_influencer(request: Request, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return form_page(
        request,
        TEMPLATE,
        {},
        influencer=None,
        values={},
        handles=[EMPTY_ROW],
        platforms=PLATFORMS,
    )


@router.post("/influencers/new")
async def create_influencer(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return await _save(request, ctx, viewer, None)


@router.get("/influencers/{influencer_id}/edit")
async def edit_influencer(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID
) -> Response:
    require_manager(viewer)
    influencer = await _influencer(ctx, viewer, influencer_id)
    return form_page(request, TEMPLATE, {}, **_stored(influencer))


@router.post("/influencers/{influencer_id}/edit")
async def update_influencer(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID
) -> Response:
    require_manager(viewer)
    influencer = await _influencer(ctx, viewer, influencer_id)
    return await _save(request, ctx, viewer, influencer)


@router.post("/influencers/{influencer_id}/delete")
async def delete_influencer(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID
) -> Response:
    require_manager(viewer)
    influencer = await _influencer(ctx, viewer, influencer_id)

    async def submit() -> str:
        await handlers.delete_influencer(ctx.pool, viewer.principal, influencer_id)
        return "/influencers"

    # Refused (409) while bookings name them: the form says so.
    return await form_post(request, TEMPLATE, _stored(influencer), submit)
