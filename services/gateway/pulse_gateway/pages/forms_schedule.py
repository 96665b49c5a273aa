"""/campaigns/{id}/report-schedule: the campaign's client report that mails itself, weekly or
monthly, with a fresh share link (never money), and the log of what was sent to whom."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from fastapi import Request, Response

from pulse_contracts.internal.reporter import ScheduleAndLog
from pulse_runtime.errors import ApiError

from ..db import org_read
from ..deps import ContextDep
from ..handlers import report_schedules as handlers
from ..handlers.report_schedules import MAX_RECIPIENTS, ScheduleIn
from ..repository import campaigns as campaigns_repo
from .common import ViewerDep, is_fragment_request, optional, page_router, render
from .forms_support import FormInvalid, error_status, form_fields, require_manager, validate

router = page_router()
CADENCES = (("weekly", "Weekly, on Mondays"), ("monthly", "Monthly, on the 1st"))
# Addresses as people paste them: one a line, or separated by commas, semicolons or spaces.
SEPARATORS = re.compile(r"[\s,;]+")


async def _view(ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID) -> dict[str, Any]:
    org_id = viewer.principal.org_id
    async with org_read(ctx.pool, org_id) as conn:
        campaign = await campaigns_repo.read_campaign(conn, org_id=org_id, campaign_id=campaign_id)
    if campaign is None:
        raise ApiError(404, f"no campaign {campaign_id}")
    notices: list[str] = []
    found = await optional(
        handlers.schedule_and_log(ctx, org_id, campaign_id),
        ScheduleAndLog(schedule=None, deliveries=[]),
        notices,
    )
    schedule = found.schedule
    values = (
        {"cadence": schedule.cadence, "recipients": "\n".join(schedule.recipients)}
        if schedule
        else {"cadence": "weekly", "recipients": ""}
    )
    return {
        "campaign": campaign,
        "schedule": schedule,
        "deliveries": found.deliveries,
        "notices": notices,
        "cadences": CADENCES,
        "values": values,
        "errors": {},
        "saved": False,
    }


def _page(request: Request, view: dict[str, Any], status: int = 200) -> Response:
    fragment = is_fragment_request(request) and request.method == "POST"
    template = "forms/report_schedule_body.html" if fragment else "forms/report_schedule.html"
    return render(request, template, status_code=status, **view)


def _recipients(raw: str) -> list[str]:
    return [address for address in SEPARATORS.split(raw.strip()) if address]


def _payload(values: dict[str, str]) -> dict[str, Any]:
    return {
        "cadence": values.get("cadence", ""),
        "recipients": _recipients(values.get("recipients", "")),
        "send_now": values.get("send_now") == "on",
    }


def _worded(errors: dict[str, str], recipients: list[str]) -> dict[str, str]:
    """The model names each address by its position; the form has one box for them all."""
    for field in [f for f in errors if f.startswith("recipients.")]:
        index = int(field.split(".")[1])
        errors.pop(field)
        address = recipients[index] if index < len(recipients) else ""
        errors.setdefault("recipients", f"“{address}” is not an email address.")
    if "recipients" in errors and not recipients:
        errors["recipients"] = "Enter at least one email address."
    elif "recipients" in errors and len(recipients) > MAX_RECIPIENTS:
        errors["recipients"] = f"At most {MAX_RECIPIENTS} addresses."
    return errors


@router.get("/campaigns/{campaign_id}/report-schedule")
async def schedule_page(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    return _page(request, await _view(ctx, viewer, campaign_id))


@router.post("/campaigns/{campaign_id}/report-schedule")
async def save_schedule(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    view = await _view(ctx, viewer, campaign_id)
    values = await form_fields(request)
    payload = _payload(values)
    try:
        body = validate(ScheduleIn, payload, {})
    except FormInvalid as exc:
        view.update(errors=_worded(exc.errors, payload["recipients"]), values=values)
        return _page(request, view, error_status(request))
    await handlers.save_schedule(ctx, viewer.principal.org_id, campaign_id, body)
    view = await _view(ctx, viewer, campaign_id)
    view["saved"] = True
    return _page(request, view)


@router.post("/campaigns/{campaign_id}/report-schedule/delete")
async def stop_schedule(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    require_manager(viewer)
    await handlers.delete_schedule(ctx, viewer.principal.org_id, campaign_id)
    return _page(request, await _view(ctx, viewer, campaign_id))
