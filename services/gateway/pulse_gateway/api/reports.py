"""Reports as background jobs: ask (202), follow, retry, download; the campaign PDF button."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from pulse_contracts.reports import REPORT_SECTIONS
from pulse_runtime.errors import ApiError

from .. import report_jobs
from ..db import org_transaction
from ..deps import ContextDep, Reader
from ..reports import ReportRequest
from ..repository import report_jobs as jobs_repo

router = APIRouter(tags=["reports"])


def _accepted(row: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(report_jobs.view(row)),
        status_code=202,
        headers={"Location": f"/api/reports/{row['id']}", "Cache-Control": "no-store"},
    )


@router.post("/api/reports", status_code=202)
async def request_report(ctx: ContextDep, caller: Reader, body: ReportRequest) -> JSONResponse:
    """Queued for the reporter; the answer is the job, to follow at its Location."""
    return _accepted(await report_jobs.ask(ctx, caller.org_id, caller.user_id, body))


@router.get("/api/reports")
async def list_reports(
    ctx: ContextDep, caller: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> JSONResponse:
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        rows = await jobs_repo.newest(conn, org_id=caller.org_id, limit=limit)
    return JSONResponse(
        jsonable_encoder({"items": [report_jobs.view(r) for r in rows]}),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/api/reports/{job_id}")
async def get_report(ctx: ContextDep, caller: Reader, job_id: UUID) -> JSONResponse:
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        row = await jobs_repo.get(conn, org_id=caller.org_id, job_id=job_id)
    if row is None:
        raise ApiError(404, f"no report {job_id}")
    return JSONResponse(
        jsonable_encoder(report_jobs.view(row)), headers={"Cache-Control": "no-store"}
    )


@router.post("/api/reports/{job_id}/retry", status_code=202)
async def retry_report(ctx: ContextDep, caller: Reader, job_id: UUID) -> JSONResponse:
    return _accepted(await report_jobs.retry(ctx, caller.org_id, job_id))


@router.get("/api/reports/{job_id}/download", response_class=Response)
async def download_report(ctx: ContextDep, caller: Reader, job_id: UUID) -> Response:
    found = await report_jobs.download(ctx, caller.org_id, job_id)
    return Response(
        found.content,
        media_type=found.headers.get("content-type", "application/octet-stream"),
        headers={
            "Content-Disposition": found.headers.get("content-disposition", "attachment"),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/api/campaigns/{campaign_id}/report", status_code=202)
async def campaign_report(ctx: ContextDep, caller: Reader, campaign_id: UUID) -> JSONResponse:
    """The agency's PDF of one campaign (the client layout plus the internal figures), as a
    job like any other report."""
    body = ReportRequest(campaign_ids=[campaign_id], sections=list(REPORT_SECTIONS), format="pdf")
    try:
        row = await report_jobs.ask(ctx, caller.org_id, caller.user_id, body)
    except ApiError as exc:
        if exc.status == 422:  # the one campaign is not this organization's
            raise ApiError(404, f"no campaign {campaign_id}") from exc
        raise
    return _accepted(row)
