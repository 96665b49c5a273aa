"""/reports: the organization's reports (custom ones and the campaign PDF button's), their
state while the reporter works, the download when done, and a retry when one failed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import Form, Request, Response
from pydantic import ValidationError

from pulse_contracts.reports import REPORT_FORMATS, REPORT_SECTIONS
from pulse_runtime.errors import ApiError

from .. import report_jobs
from ..db import org_transaction
from ..deps import ContextDep
from ..reports import ReportRequest
from ..repository import report_jobs as jobs_repo
from .common import ViewerDep, page_router, render
from .forms_support import done, error_status

router = page_router()
LIST_LIMIT = 100
SECTION_LABELS = {
    "kpis": "Performance against commitments",
    "money": "Internal figures (fees, spend, CPM, CPE)",
    "growth": "Daily growth",
    "platforms": "Platforms",
    "creators": "Creators and posts",
}


async def _page(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    *,
    problem: str | None = None,
    status_code: int = 200,
    chosen: dict[str, Any] | None = None,
) -> Response:
    org_id = viewer.principal.org_id
    async with org_transaction(ctx.pool, org_id) as conn:
        rows = await jobs_repo.newest(conn, org_id=org_id, limit=LIST_LIMIT)
        campaigns = await jobs_repo.campaign_choices(conn, org_id=org_id)
    names = {c["id"]: c["name"] for c in campaigns}
    jobs = [
        {**report_jobs.view(r), "campaign_names": [names.get(i, "—") for i in r["campaign_ids"]]}
        for r in rows
    ]
    return render(
        request,
        "reports.html",
        status_code=status_code,
        jobs=jobs,
        working=any(j["status"] in ("pending", "running") for j in jobs),
        campaigns=campaigns,
        sections=[(s, SECTION_LABELS[s]) for s in REPORT_SECTIONS],
        formats=REPORT_FORMATS,
        problem=problem,
        chosen=chosen or {"campaign_ids": [], "sections": list(REPORT_SECTIONS), "format": "pdf"},
    )


@router.get("/reports")
async def reports_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    return await _page(request, ctx, viewer)


@router.post("/reports")
async def ask_for_report(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    campaign_ids: Annotated[list[str] | None, Form()] = None,
    period_from: Annotated[str, Form(max_length=10)] = "",
    period_to: Annotated[str, Form(max_length=10)] = "",
    sections: Annotated[list[str] | None, Form()] = None,
    format: Annotated[str, Form(max_length=10)] = "pdf",
) -> Response:
    """The same job as POST /api/reports; a refusal comes back on the page, the form kept."""
    chosen = {
        "campaign_ids": campaign_ids or [],
        "from": period_from,
        "to": period_to,
        "sections": sections or [],
        "format": format,
    }
    try:
        body = ReportRequest.model_validate(
            {
                "campaign_ids": campaign_ids or [],
                "from": date.fromisoformat(period_from) if period_from else None,
                "to": date.fromisoformat(period_to) if period_to else None,
                "sections": sections or [],
                "format": format,
            }
        )
        await report_jobs.ask(ctx, viewer.principal.org_id, viewer.principal.user_id, body)
    except (ValidationError, ValueError) as exc:
        problem = _problem(exc)
    except ApiError as exc:
        if exc.status != 422:
            raise
        problem = exc.message
    else:
        return done(request, "/reports")
    status = error_status(request)  # htmx swaps only a 200; a plain post hears 422
    return await _page(request, ctx, viewer, problem=problem, status_code=status, chosen=chosen)


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "report"
        if field.startswith("campaign_ids") and "at least 1" in first["msg"]:
            return "Pick at least one campaign."
        if field.startswith("campaign_ids"):
            return "A report covers at most 10 campaigns."
        if field.startswith("sections"):
            return "Pick at least one known section."
        return f"{field}: {first['msg']}"
    return f"Dates must be YYYY-MM-DD ({exc})."


@router.post("/reports/{job_id}/retry")
async def retry_report(
    request: Request, ctx: ContextDep, viewer: ViewerDep, job_id: UUID
) -> Response:
    try:
        await report_jobs.retry(ctx, viewer.principal.org_id, job_id)
    except ApiError as exc:
        if exc.status != 409:
            raise
        status = 200 if request.headers.get("hx-request") else 409
        return await _page(request, ctx, viewer, problem=exc.message, status_code=status)
    return done(request, "/reports")


@router.post("/campaigns/{campaign_id}/report")
async def campaign_pdf(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    """The campaign page's PDF button: the agency's report as a job, followed on /reports."""
    body = ReportRequest(campaign_ids=[campaign_id], format="pdf")
    try:
        await report_jobs.ask(ctx, viewer.principal.org_id, viewer.principal.user_id, body)
    except ApiError as exc:
        if exc.status == 422:
            raise ApiError(404, f"no campaign {campaign_id}") from exc
        raise
    return done(request, "/reports")
