"""/api/campaigns/{id}/share-links, /api/share-links/{id} and /api/client-invites: the client's
read-only links, created, listed, revoked, or mailed to the client (handlers/share_links.py).
A link's token is in the create answer only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel

from pulse_contracts.internal.share import LinkPage

from ..deps import ContextDep, Manager, PoolDep, Reader
from ..handlers import share_links as handlers
from ..handlers.share_links import ClientInviteIn, CreatedShareLink, ShareLinkIn

router = APIRouter(tags=["share links"])


class ClientInviteOut(BaseModel):
    id: UUID
    campaign_id: UUID
    email: str
    url: str
    expires_at: datetime | None
    has_password: bool


@router.get("/api/campaigns/{campaign_id}/share-links")
async def list_share_links(
    ctx: ContextDep, pool: PoolDep, caller: Reader, campaign_id: UUID
) -> LinkPage:
    """The campaign's links with their views, last view, expiry and state (never a token)."""
    return LinkPage(items=await handlers.list_links(ctx, pool, caller, campaign_id))


@router.post("/api/campaigns/{campaign_id}/share-links", status_code=201)
async def create_share_link(
    ctx: ContextDep, pool: PoolDep, caller: Manager, campaign_id: UUID, body: ShareLinkIn
) -> CreatedShareLink:
    return await handlers.create_link(ctx, pool, caller, campaign_id, body)


@router.post("/api/client-invites", response_model=ClientInviteOut, status_code=201)
async def invite_client(
    ctx: ContextDep, pool: PoolDep, caller: Manager, body: ClientInviteIn
) -> dict[str, Any]:
    """A new share link for the campaign, mailed to the client (the link is in the mail only)."""
    link = await handlers.invite_client(ctx, pool, caller, body)
    return {**link.model_dump(), "email": body.email}


@router.delete("/api/share-links/{link_id}", status_code=204)
async def revoke_share_link(
    ctx: ContextDep, pool: PoolDep, caller: Manager, link_id: UUID
) -> Response:
    """Effective on the link's next request. Only the caller's organization's links."""
    await handlers.revoke_link(ctx, pool, caller, link_id)
    return Response(status_code=204)
