"""Report jobs from the gateway: what staff may ask for, and the documents a job carries.

The gateway owns the catalog and the numbers read model, so it builds each campaign's report
(staff_report: the client layout plus fees, spend, CPM, CPE) and hands the reporter the whole
snapshot; the reporter renders it and never reads the catalog. Rules that need the campaigns
(dates inside each campaign) are checked here and answered 422 naming the field.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pulse_contracts import utcnow
from pulse_contracts.emv import CampaignEmv
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers
from pulse_contracts.reports import (
    MAX_REPORT_CAMPAIGNS,
    REPORT_SECTIONS,
    ReportDocument,
    ReportFormat,
    ReportRequested,
    ReportSection,
)
from pulse_runtime.db import Connection
from pulse_runtime.errors import ApiError

from . import numbers
from .context import GatewayContext
from .repository import sql
from .staff_report import ClientInfo, CreatorInfo, staff_report


class ReportRequest(BaseModel):
    """POST /api/reports. Unknown sections and formats are refused by their types (422)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    campaign_ids: list[UUID] = Field(min_length=1, max_length=MAX_REPORT_CAMPAIGNS)
    period_from: date | None = Field(default=None, alias="from")
    period_to: date | None = Field(default=None, alias="to")
    sections: list[ReportSection] = Field(default=list(REPORT_SECTIONS), min_length=1)
    format: ReportFormat = "pdf"

    @model_validator(mode="after")
    def _ordered(self) -> ReportRequest:
        if self.period_from and self.period_to and self.period_from > self.period_to:
            raise ValueError("`from` must not be after `to`")
        return self


def field_error(field: str, message: str) -> ApiError:
    return ApiError(422, message, details=[{"path": f"body.{field}", "message": message}])


def check_period(request: ReportRequest, campaigns: list[dict[str, Any]]) -> None:
    """The period must lie inside every campaign it reports on (a day outside has no data)."""
    for c in campaigns:
        start, end = c["start_date"], c["end_date"]
        if request.period_from and start and request.period_from < start:
            raise field_error(
                "from", f"from {request.period_from} is before {c['name']!r} starts ({start})"
            )
        if request.period_to and end and request.period_to > end:
            raise field_error("to", f"to {request.period_to} is after {c['name']!r} ends ({end})")
        if request.period_from and end and request.period_from > end:
            raise field_error("from", f"from {request.period_from} is after {c['name']!r} ends")
        if request.period_to and start and request.period_to < start:
            raise field_error("to", f"to {request.period_to} is before {c['name']!r} starts")


async def load_campaigns(
    conn: Connection, org_id: UUID, campaign_ids: list[UUID]
) -> list[dict[str, Any]]:
    """The campaigns in the order asked, or 422 naming the first one this organization lacks."""
    found = {r["id"]: dict(r) for r in await conn.fetch(sql.report_campaigns, org_id, campaign_ids)}
    for n, campaign_id in enumerate(campaign_ids):
        if campaign_id not in found:
            raise field_error(f"campaign_ids.{n}", f"no campaign {campaign_id}")
    return [found[c] for c in dict.fromkeys(campaign_ids)]


async def documents(
    ctx: GatewayContext,
    conn: Connection,
    org_id: UUID,
    campaigns: list[dict[str, Any]],
    *,
    period_from: date | None = None,
    period_to: date | None = None,
) -> list[ReportDocument]:
    """Each campaign's staff report as the job carries it, the daily series and the posts
    narrowed to the period when one is given (the KPIs stay the campaign's to date)."""
    found = []
    for campaign in campaigns:
        client = await conn.fetchrow(sql.report_client, org_id, campaign["client_id"])
        creators = {
            r["id"]: CreatorInfo(
                display_name=r["display_name"], tier=r["tier"], platforms=tuple(r["platforms"])
            )
            for r in await conn.fetch(sql.report_creators, org_id, campaign["id"])
        }
        numbers_doc = await numbers.campaign_numbers(ctx, org_id, campaign["id"])
        doc = (
            CampaignNumbers.model_validate(numbers_doc)
            if numbers_doc is not None
            else not_computed_yet(campaign)
        )
        # The catalog's name and dates are the current ones; the numbers may predate an edit.
        doc = doc.model_copy(
            update={
                "campaign": doc.campaign.model_copy(
                    update={
                        "name": campaign["name"],
                        "start_date": campaign["start_date"],
                        "end_date": campaign["end_date"],
                    }
                )
            }
        )
        report, figures = staff_report(
            doc,
            client=ClientInfo(name=client["name"], brand_color=client["brand_color"])
            if client
            else None,
            creators=creators,
            generated_at=utcnow(),
            # Valued by the read above at the organization's current rates, as /emv is.
            emv=CampaignEmv.model_validate(numbers_doc["emv"]) if numbers_doc else None,
        )
        fields = asdict(report)
        fields["daily"] = [
            d
            for d in fields["daily"]
            if (period_from is None or d["date"] >= period_from)
            and (period_to is None or d["date"] <= period_to)
        ]
        for creator in fields["creators"]:
            creator["posts"] = [
                p for p in creator["posts"] if _in_period(p, period_from, period_to)
            ]
        found.append(ReportDocument.model_validate({**fields, "staff": asdict(figures)}))
    return found


def _in_period(post: dict[str, Any], start: date | None, end: date | None) -> bool:
    posted = post["posted_at"]
    if posted is None:
        return True  # not known yet: kept, rather than silently dropped from the report
    day = posted.date()
    return (start is None or day >= start) and (end is None or day <= end)


def job_request(
    *,
    job_id: UUID,
    attempt: int,
    request: ReportRequest,
    title: str,
    docs: list[ReportDocument],
) -> ReportRequested:
    return ReportRequested(
        job_id=job_id,
        attempt=attempt,
        requested_by="gateway",
        audience="staff",
        format=request.format,
        title=title,
        sections=tuple(request.sections),
        period_from=request.period_from,
        period_to=request.period_to,
        documents=tuple(docs),
    )


def title_of(campaigns: list[dict[str, Any]]) -> str:
    first = str(campaigns[0]["name"])
    return first if len(campaigns) == 1 else f"{first} and {len(campaigns) - 1} more"


def not_computed_yet(campaign: dict[str, Any]) -> CampaignNumbers:
    """An empty document for a campaign the aggregator has not computed: no posts, zeros."""
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=campaign["id"],
            client_id=campaign["client_id"],
            name=campaign["name"],
            status=campaign["status"],
            start_date=campaign["start_date"],
            end_date=campaign["end_date"],
            currency=campaign["currency"],
            budget_cents=campaign["budget_cents"],
            committed_views=campaign["committed_views"],
            committed_engagement=campaign["committed_engagement"],
        ),
        as_of=utcnow(),
    )
