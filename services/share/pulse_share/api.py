"""share's internal routes for the gateway: create, list and revoke a campaign's links."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from pulse_contracts import utcnow
from pulse_contracts.internal.share import CreatedLink, LinkIn, LinkOut, LinkPage
from pulse_runtime.db import PoolGetter
from pulse_runtime.http import internal_router

from . import handlers


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
