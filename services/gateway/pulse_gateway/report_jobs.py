"""Report jobs' life in the gateway: ask (row + report.requested in one transaction), retry,
follow (report.progressed → the row), download (the reporter's file, behind the row's RLS)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.reports import ReportProgressed
from pulse_runtime.db import Connection
from pulse_runtime.errors import ApiError
from pulse_runtime.logging import current_correlation_id
from pulse_runtime.outbox import add_to_outbox

from . import reports
from .context import GatewayContext
from .db import PRODUCER, SCHEMA, org_transaction
from .repository import report_jobs


async def ask(
    ctx: GatewayContext, org_id: UUID, user_id: UUID | None, request: reports.ReportRequest
) -> dict[str, Any]:
    """The job's row and its report.requested commit together; 422 before anything is kept."""
    job_id = uuid4()
    async with org_transaction(ctx.pool, org_id) as conn:
        campaigns = await reports.load_campaigns(conn, org_id, request.campaign_ids)
        reports.check_period(request, campaigns)
        title = reports.title_of(campaigns)
        row = await report_jobs.insert(
            conn,
            job_id=job_id,
            org_id=org_id,
            user_id=user_id,
            campaign_ids=[c["id"] for c in campaigns],
            period_from=request.period_from,
            period_to=request.period_to,
            sections=request.sections,
            format=request.format,
            title=title,
        )
        await _publish(ctx, conn, org_id, row, request, campaigns)
    ctx.runtime.wake_relay()
    return row


async def retry(ctx: GatewayContext, org_id: UUID, job_id: UUID) -> dict[str, Any]:
    """A failed job again, from today's data, under its next attempt number."""
    async with org_transaction(ctx.pool, org_id) as conn:
        if await report_jobs.get(conn, org_id=org_id, job_id=job_id) is None:
            raise ApiError(404, f"no report {job_id}")
        row = await report_jobs.retry(conn, org_id=org_id, job_id=job_id)
        if row is None:
            raise ApiError(409, "only a failed report can be retried")
        request = reports.ReportRequest(
            campaign_ids=row["campaign_ids"],
            period_from=row["period_from"],
            period_to=row["period_to"],
            sections=row["sections"],
            format=row["format"],
        )
        campaigns = await reports.load_campaigns(conn, org_id, request.campaign_ids)
        await _publish(ctx, conn, org_id, row, request, campaigns)
    ctx.runtime.wake_relay()
    return row


async def _publish(
    ctx: GatewayContext,
    conn: Connection,
    org_id: UUID,
    row: dict[str, Any],
    request: reports.ReportRequest,
    campaigns: list[dict[str, Any]],
) -> None:
    docs = await reports.documents(
        ctx,
        conn,
        org_id,
        campaigns,
        period_from=request.period_from,
        period_to=request.period_to,
    )
    data = reports.job_request(
        job_id=row["id"], attempt=row["attempt"], request=request, title=row["title"], docs=docs
    )
    envelope = make_event(
        data, org_id=org_id, producer=PRODUCER, correlation_id=current_correlation_id()
    )
    await add_to_outbox(conn, SCHEMA, envelope)


async def on_report_progressed(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> None:
    """The durable consumer: the gateway's own jobs' rows follow the reporter's events."""
    event = envelope.data
    if not isinstance(event, ReportProgressed) or event.requested_by != "gateway":
        return
    async with org_transaction(pool, envelope.org_id) as conn:
        await report_jobs.apply_progress(conn, org_id=envelope.org_id, event=event)


async def download(ctx: GatewayContext, org_id: UUID, job_id: UUID) -> httpx.Response:
    """The file of a done job of this organization (RLS on the row), from the reporter."""
    async with org_transaction(ctx.pool, org_id) as conn:
        row = await report_jobs.get(conn, org_id=org_id, job_id=job_id)
    if row is None:
        raise ApiError(404, f"no report {job_id}")
    if row["status"] != "done":
        raise ApiError(409, f"the report is {row['status']}, not ready to download")
    url = f"{ctx.settings.reporter_url}/internal/orgs/{org_id}/reports/{job_id}/file"
    try:
        found = await ctx.http.get(url, timeout=30)
    except httpx.HTTPError as exc:
        raise ApiError(503, "the report service is unreachable; try again shortly") from exc
    if found.status_code == 404:
        raise ApiError(410, "this report's file has expired; ask for it again")
    if found.status_code != 200:
        raise ApiError(503, "the report service could not hand over the file")
    return found


def view(row: dict[str, Any]) -> dict[str, Any]:
    """A job as the API shows it: the download link only once there is something to get."""
    return {
        "id": row["id"],
        "status": row["status"],
        "progress": row["progress"],
        "error": row["error"],
        "attempt": row["attempt"],
        "title": row["title"],
        "format": row["format"],
        "campaign_ids": row["campaign_ids"],
        "from": row["period_from"],
        "to": row["period_to"],
        "sections": row["sections"],
        "filename": row["filename"],
        "size_bytes": row["size_bytes"],
        "expires_at": row["expires_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "download_url": f"/api/reports/{row['id']}/download" if row["status"] == "done" else None,
    }
