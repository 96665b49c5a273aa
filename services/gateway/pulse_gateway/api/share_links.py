"""/api/campaigns/{id}/share-links, /api/share-links/{id} and /api/client-invites: the client's
read-only links, created, listed, revoked, or mailed to the client.

The share service owns the links; the gateway checks the campaign is the caller's, asks share
to create, list or revoke, and keeps the audit trail. A link's token is in the create answer
only: share stores its SHA-256 and nobody can show it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from pulse_contracts.internal.share import MIN_PASSWORD_LENGTH, LinkOut, LinkPage, encodable
from pulse_runtime.errors import ApiError

from .. import mail, peers
from ..db import org_transaction, record
from ..deps import ContextDep, Manager, PoolDep, Principal, Reader

router = APIRouter(tags=["share links"])


class ShareLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_at: datetime | None = Field(default=None, description="ISO-8601 with a timezone")
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=200)
    show_forecast: bool = Field(
        default=False, description="show the delivery forecast (an estimate, never money)"
    )
    show_emv: bool = Field(
        default=False,
        description="show earned media value (an estimate in money; never a fee, spend or ROI)",
    )

    @field_validator("password")
    @classmethod
    def _encodable(cls, value: str | None) -> str | None:
        """JSON admits lone surrogates; they cannot travel on to the share service."""
        return encodable(value) if value is not None else None


class CreatedShareLink(LinkOut):
    """Share's answer with the URL on the dashboard's public address (share's `path` stays
    inside: the URL says it all)."""

    url: str
    token: str = Field(description="shown once: only its SHA-256 is stored")


async def _own_campaign(pool: asyncpg.Pool, caller: Principal, campaign_id: UUID) -> str:
    """The campaign's name; another organization's campaign answers 404 like a missing one."""
    async with org_transaction(pool, caller.org_id) as conn:
        name: str | None = await conn.fetchval(
            "SELECT name FROM catalog.campaigns "
            "WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL",
            campaign_id,
            caller.org_id,
        )
    if name is None:
        raise ApiError(404, f"no campaign {campaign_id}")
    return name


def _audited(link: LinkOut) -> dict[str, Any]:
    return link.model_dump(
        mode="json",
        include={
            "campaign_id",
            "expires_at",
            "has_password",
            "revoked_at",
            "show_forecast",
            "show_emv",
        },
    )


@router.get("/api/campaigns/{campaign_id}/share-links")
async def list_share_links(
    ctx: ContextDep, pool: PoolDep, caller: Reader, campaign_id: UUID
) -> LinkPage:
    """The campaign's links with their views, last view, expiry and state (never a token)."""
    await _own_campaign(pool, caller, campaign_id)
    return LinkPage(items=await peers.list_links(ctx, caller.org_id, campaign_id))


@router.post("/api/campaigns/{campaign_id}/share-links", status_code=201)
async def create_share_link(
    ctx: ContextDep, pool: PoolDep, caller: Manager, campaign_id: UUID, body: ShareLinkIn
) -> CreatedShareLink:
    await _own_campaign(pool, caller, campaign_id)
    return await _new_link(ctx, pool, caller, campaign_id, body, action="create")


async def _new_link(
    ctx: ContextDep,
    pool: asyncpg.Pool,
    caller: Principal,
    campaign_id: UUID,
    body: ShareLinkIn,
    *,
    action: str,
    note: dict[str, Any] | None = None,
) -> CreatedShareLink:
    link = await peers.create_link(
        ctx,
        caller.org_id,
        campaign_id,
        created_by=caller.user_id,
        expires_at=body.expires_at,
        password=body.password,
        show_forecast=body.show_forecast,
        show_emv=body.show_emv,
    )
    async with org_transaction(pool, caller.org_id) as conn:
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action=action,
            entity="share_link",
            entity_id=link.id,
            before=None,
            after={**_audited(link), **(note or {})},
            event=None,
        )
    url = ctx.settings.share_public_url.rstrip("/") + link.path
    return CreatedShareLink.model_validate({**link.model_dump(), "url": url})


class ClientInviteIn(ShareLinkIn):
    campaign_id: UUID
    email: EmailStr


class ClientInviteOut(BaseModel):
    id: UUID
    campaign_id: UUID
    email: str
    url: str
    expires_at: datetime | None
    has_password: bool


@router.post("/api/client-invites", response_model=ClientInviteOut, status_code=201)
async def invite_client(
    ctx: ContextDep, pool: PoolDep, caller: Manager, body: ClientInviteIn
) -> dict[str, Any]:
    """A new share link for the campaign, mailed to the client (the link is in the mail only)."""
    campaign = await _own_campaign(pool, caller, body.campaign_id)
    link = await _new_link(
        ctx, pool, caller, body.campaign_id, body, action="invite", note={"email": body.email}
    )
    expiry = (
        f"It works until {body.expires_at:%d %B %Y}." if body.expires_at else "It does not expire."
    )
    password = " You will need the password we share with you separately." if body.password else ""
    message = mail.compose(
        ctx.settings,
        to=body.email,
        subject=f"Your campaign results: {campaign}",
        text=f"Follow the results of {campaign} live, at any time:\n\n{link.url}\n\n"
        f"{expiry}{password}\n",
    )
    await mail.send(ctx.settings, message)
    return {**link.model_dump(), "email": body.email}


@router.delete("/api/share-links/{link_id}", status_code=204)
async def revoke_share_link(
    ctx: ContextDep, pool: PoolDep, caller: Manager, link_id: UUID
) -> Response:
    """Effective on the link's next request. Only the caller's organization's links."""
    link = await peers.revoke_link(ctx, caller.org_id, link_id)
    async with org_transaction(pool, caller.org_id) as conn:
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="revoke",
            entity="share_link",
            entity_id=link_id,
            before=None,
            after=_audited(link),
            event=None,
        )
    return Response(status_code=204)
