"""share's internal routes for the gateway: create, list and revoke a campaign's links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulse_contracts import utcnow
from pulse_runtime.db import PoolGetter
from pulse_runtime.http import internal_router

from . import handlers
from .links import MIN_PASSWORD_LENGTH, encodable


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    campaign_id: UUID
    created_by: UUID | None = None
    expires_at: datetime | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=200)
    show_forecast: bool = False  # the delivery forecast on the client view (never money)
    show_emv: bool = False  # earned media value on the client view (an estimate; no fee/ROI)

    @field_validator("password")
    @classmethod
    def _encodable(cls, value: str | None) -> str | None:
        return encodable(value) if value is not None else None


class LinkOut(BaseModel):
    id: UUID
    campaign_id: UUID
    created_by: UUID | None
    created_at: datetime
    expires_at: datetime | None
    has_password: bool
    revoked_at: datetime | None
    view_count: int
    last_viewed_at: datetime | None
    show_forecast: bool = False
    show_emv: bool = False
    state: str


class CreatedLink(LinkOut):
    token: str  # shown once: only its SHA-256 is stored
    path: str
    url: str


class LinkPage(BaseModel):
    items: list[LinkOut]
    next_cursor: str | None = None


def internal_links(pool: PoolGetter, service_token: str, public_url: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])

    @router.post("/share-links", response_model=CreatedLink, status_code=201)
    async def create_link(org_id: UUID, body: LinkIn) -> dict[str, Any]:
        """A new link to the campaign; the answer is the only place its token ever appears."""
        link, token = await handlers.create_link(
            pool(),
            org_id=org_id,
            campaign_id=body.campaign_id,
            created_by=body.created_by,
            expires_at=body.expires_at,
            password=body.password,
            now=utcnow(),
            show_forecast=body.show_forecast,
            show_emv=body.show_emv,
        )
        path = f"/share/{token}"
        return {**link, "token": token, "path": path, "url": public_url.rstrip("/") + path}

    @router.get("/campaigns/{campaign_id}/share-links", response_model=LinkPage)
    async def list_links(
        org_id: UUID, campaign_id: UUID, limit: Annotated[int, Query(ge=1, le=500)] = 200
    ) -> dict[str, Any]:
        items = await handlers.list_links(
            pool(), org_id=org_id, campaign_id=campaign_id, limit=limit, now=utcnow()
        )
        return {"items": items, "next_cursor": None}

    @router.delete("/share-links/{link_id}", response_model=LinkOut)
    async def revoke_link(org_id: UUID, link_id: UUID) -> dict[str, Any]:
        """Revoked at once: the next request for its token answers 404. Revoking twice is fine."""
        return await handlers.revoke_link(pool(), org_id=org_id, link_id=link_id, now=utcnow())

    return router
