"""The scheduled client report's share side: a fresh link for the mail, and the client view's
document for the reporter to print (the allow-listed payload; no money can be in it)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter

from pulse_contracts import utcnow
from pulse_contracts.internal.share import ScheduledReport, ScheduledReportIn
from pulse_runtime.db import PoolGetter
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router

from . import handlers
from .report_jobs import client_document


def scheduled_routes(pool: PoolGetter, service_token: str, public_url: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])
    projections = handlers.Projections(capacity=64)

    @router.post("/campaigns/{campaign_id}/scheduled-report")
    async def scheduled_report(
        org_id: UUID, campaign_id: UUID, body: ScheduledReportIn
    ) -> ScheduledReport:
        """A link for this period's mail (expiring after `link_days`) and the report it shows."""
        now = utcnow()
        _, token = await handlers.create_link(
            pool(),
            org_id=org_id,
            campaign_id=campaign_id,
            created_by=None,
            expires_at=now + timedelta(days=body.link_days),
            password=None,
            now=now,
        )
        link = await handlers.find_active_link(pool(), token, now)
        if link is None or link.org_id != org_id:
            raise ApiError(404, f"no campaign {campaign_id}")
        payload = await projections.seen_at(pool(), link, now)
        if payload is None:
            raise ApiError(409, "the campaign's numbers are not computed yet")
        return ScheduledReport(
            url=f"{public_url.rstrip('/')}/share/{token}",
            link_id=link.id,
            title=payload.campaign.name,
            document=client_document(payload),
        )

    return router
