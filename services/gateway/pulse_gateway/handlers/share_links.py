"""The client's read-only links of a campaign: listed, created, mailed to the client, revoked.

The share service owns the links; the gateway checks the campaign is the caller's, asks share
(peers.py) and keeps the audit trail. A link's token is in the create answer only: share stores
its SHA-256 and nobody can show it again. `api/share_links.py` and `pages/forms_share.py` are
two thin doors onto these use cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from pulse_contracts.internal.share import MIN_PASSWORD_LENGTH, LinkOut, encodable
from pulse_runtime.errors import NotFound

from .. import mail, peers
from ..context import GatewayContext
from ..db import org_transaction, record
from ..deps import Principal
from ..repository import campaigns as campaigns_repo


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


class ClientInviteIn(ShareLinkIn):
    campaign_id: UUID
    email: EmailStr


async def own_campaign(pool: asyncpg.Pool, caller: Principal, campaign_id: UUID) -> str:
    """The campaign's name; another organization's campaign is NotFound like a missing one."""
    async with org_transaction(pool, caller.org_id) as conn:
        name = await campaigns_repo.campaign_name(
            conn, org_id=caller.org_id, campaign_id=campaign_id
        )
    if name is None:
        raise NotFound(f"no campaign {campaign_id}")
    return name


async def list_links(
    ctx: GatewayContext, pool: asyncpg.Pool, caller: Principal, campaign_id: UUID
) -> list[LinkOut]:
    await own_campaign(pool, caller, campaign_id)
    return await peers.list_links(ctx, caller.org_id, campaign_id)


async def create_link(
    ctx: GatewayContext,
    pool: asyncpg.Pool,
    caller: Principal,
    campaign_id: UUID,
    body: ShareLinkIn,
    *,
    action: str = "create",
    note: dict[str, Any] | None = None,
) -> CreatedShareLink:
    await own_campaign(pool, caller, campaign_id)
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
    await _audit(pool, caller, link, action=action, note=note)
    url = ctx.settings.share_public_url.rstrip("/") + link.path
    return CreatedShareLink.model_validate({**link.model_dump(), "url": url})


async def invite_client(
    ctx: GatewayContext, pool: asyncpg.Pool, caller: Principal, body: ClientInviteIn
) -> CreatedShareLink:
    """A new share link for the campaign, mailed to the client (the link is in the mail only)."""
    campaign = await own_campaign(pool, caller, body.campaign_id)
    link = await create_link(
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
    return link


async def revoke_link(
    ctx: GatewayContext, pool: asyncpg.Pool, caller: Principal, link_id: UUID
) -> LinkOut:
    """Effective on the link's next request. Only the caller's organization's links."""
    link = await peers.revoke_link(ctx, caller.org_id, link_id)
    await _audit(pool, caller, link, action="revoke")
    return link


async def _audit(
    pool: asyncpg.Pool,
    caller: Principal,
    link: LinkOut,
    *,
    action: str,
    note: dict[str, Any] | None = None,
) -> None:
    audited = link.model_dump(
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
    async with org_transaction(pool, caller.org_id) as conn:
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action=action,
            entity="share_link",
            entity_id=link.id,
            before=None,
            after={**audited, **(note or {})},
            event=None,
        )
