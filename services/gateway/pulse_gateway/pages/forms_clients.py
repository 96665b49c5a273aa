"""The clients screen and the client form: create, edit, delete (refused while in use)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Request, Response

from pulse_runtime.errors import ApiError

from ..db import org_read
from ..deps import ContextDep
from ..handlers import clients as handlers
from ..handlers.clients import ClientIn, ClientPatch
from ..repository import campaigns as campaigns_repo
from ..repository import clients as repo
from .common import ViewerDep, page_router, render
from .forms_support import (
    form_fields,
    form_page,
    form_post,
    optional_text,
    require_manager,
    validate,
)

router = page_router()
TEMPLATE = "forms/client.html"


@router.get("/clients")
async def clients_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    org_id = viewer.principal.org_id
    async with org_read(ctx.pool, org_id) as conn:
        clients = await repo.list_clients(conn, org_id=org_id, after=None, limit=500)
        campaigns = await campaigns_repo.list_campaigns(
            conn, org_id=org_id, status=None, client_id=None, q=None, after=None, limit=500
        )
    counts: dict[UUID, int] = {}
    for c in campaigns:
        counts[c["client_id"]] = counts.get(c["client_id"], 0) + 1
    rows = [{**c, "campaigns": counts.get(c["id"], 0)} for c in clients]
    rows.sort(key=lambda c: c["name"].lower())
    return render(request, "clients.html", clients=rows)


def _payload(values: dict[str, str]) -> dict[str, Any]:
    color = values.get("brand_color") or None
    return {
        "name": values.get("name", ""),
        "brand_color": color.upper() if color and color.startswith("#") else color,
        "logo_url": optional_text(values, "logo_url"),
    }


def _values(client: dict[str, Any]) -> dict[str, str]:
    return {k: client[k] or "" for k in ClientPatch.model_fields}


async def _client(ctx: ContextDep, viewer: ViewerDep, client_id: UUID) -> dict[str, Any]:
    async with org_read(ctx.pool, viewer.principal.org_id) as conn:
        row = await repo.read_client(conn, org_id=viewer.principal.org_id, client_id=client_id)
    if row is None:
        raise ApiError(404, f"no client {client_id}")
    return row


@router.get("/clients/new")
async def new_client(request: Request, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    return form_page(request, TEMPLATE, {}, client=None, values={})


@router.post("/clients/new")
async def create_client(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    require_manager(viewer)
    values = await form_fields(request)

    async def submit() -> str:
        body = validate(ClientIn, _payload(values), {})
        await handlers.create_client(ctx.pool, viewer.principal, body.model_dump())
        return "/clients"

    return await form_post(request, TEMPLATE, {"client": None, "values": values}, submit)


@router.get("/clients/{client_id}/edit")
async def edit_client(
    request: Request, ctx: ContextDep, viewer: ViewerDep, client_id: UUID
) -> Response:
    require_manager(viewer)
    client = await _client(ctx, viewer, client_id)
    return form_page(request, TEMPLATE, {}, client=client, values=_values(client))


@router.post("/clients/{client_id}/edit")
async def update_client(
    request: Request, ctx: ContextDep, viewer: ViewerDep, client_id: UUID
) -> Response:
    require_manager(viewer)
    client = await _client(ctx, viewer, client_id)
    values = await form_fields(request)

    async def submit() -> str:
        patch = validate(ClientPatch, _payload(values), {})
        await handlers.update_client(ctx.pool, viewer.principal, client_id, patch.model_dump())
        return "/clients"

    return await form_post(request, TEMPLATE, {"client": client, "values": values}, submit)


@router.post("/clients/{client_id}/delete")
async def delete_client(
    request: Request, ctx: ContextDep, viewer: ViewerDep, client_id: UUID
) -> Response:
    require_manager(viewer)
    client = await _client(ctx, viewer, client_id)

    async def submit() -> str:
        await handlers.delete_client(ctx.pool, viewer.principal, client_id)
        return "/clients"

    # Refused (409) while campaigns use it: the form says so.
    return await form_post(request, TEMPLATE, {"client": client, "values": _values(client)}, submit)
