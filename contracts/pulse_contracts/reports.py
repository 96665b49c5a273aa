"""report.requested (gateway, share, schedules → reporter) and report.progressed (reporter → all).

A job carries its own snapshot of what it shows: the requester owns the data and the rules
about who may see what (the gateway its catalog and numbers, share its redacted projection),
so the reporter never reads another service's tables and a client report cannot carry money
it was never given. The documents mirror pulse_report's view model field by field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from .envelope import ContractModel, EventData, register
from .numbers import ClientKpis, DailyPoint, PlatformSplit
from .values import Counter, CurrencyCode, LongText, ShortText, Url

ReportFormat = Literal["pdf", "csv", "xlsx"]
ReportSection = Literal["kpis", "money", "growth", "platforms", "creators"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("pdf", "csv", "xlsx")
REPORT_SECTIONS: tuple[ReportSection, ...] = ("kpis", "money", "growth", "platforms", "creators")
MAX_REPORT_CAMPAIGNS = 10
Requester = Literal["gateway", "share", "schedule"]
Audience = Literal["staff", "client"]
JobStatus = Literal["pending", "running", "done", "failed"]


class DocCampaign(ContractModel):
    name: ShortText
    status: ShortText | None = None
    start_date: date | None = None
    end_date: date | None = None


class DocClient(ContractModel):
    name: ShortText
    brand_color: ShortText | None = None
    logo_src: Url | None = None


class DocCounters(ContractModel):
    views: Counter = None
    likes: Counter = None
    comments: Counter = None
    shares: Counter = None
    saves: Counter = None
    estimated: bool = False


class DocPost(ContractModel):
    platform: ShortText
    url: Url | None = None
    thumb_src: Url | None = None
    posted_at: datetime | None = None
    caption: LongText | None = None
    counters: DocCounters | None = None


class DocCreator(ContractModel):
    display_name: ShortText
    avatar_src: Url | None = None
    tier: ShortText | None = None
    platforms: tuple[ShortText, ...] = ()
    actual_views: int = 0
    actual_engagement: int = 0
    engagement_rate: float | None = None
    posts: tuple[DocPost, ...] = ()


class DocStaffBooking(ContractModel):
    creator: ShortText
    fee_cents: int
    actual_views: int
    actual_engagement: int
    kpi_pct: float | None = None
    cpm: float | None = None
    cpe: float | None = None


class DocStaffFigures(ContractModel):
    """The agency's internal figures; only a staff job may carry them."""

    currency: CurrencyCode | None = None
    budget_cents: int | None = None
    spend_cents: int
    cpm: float | None = None
    cpe: float | None = None
    bookings: tuple[DocStaffBooking, ...] = ()
    emv_currency: CurrencyCode | None = None  # earned media value: an estimate, at the rates'
    emv_cents: int | None = None
    roi: float | None = None  # EMV ÷ spend: the agency's own figure, never on a client job


class DocForecast(ContractModel):
    """The delivery forecast at the end date (docs/insights.md), an estimate with its band;
    on a client job only when the share link opted in."""

    status: ShortText
    views: int | None = None
    views_low: int | None = None
    views_high: int | None = None
    engagement: int | None = None
    engagement_low: int | None = None
    engagement_high: int | None = None
    posts: int | None = None
    posts_low: int | None = None
    posts_high: int | None = None


class DocCreatorEmv(ContractModel):
    display_name: ShortText
    emv_cents: int


class DocEmv(ContractModel):
    """Earned media value (docs/insights.md), an estimate in money; on a client job only when
    the share link opted in, and never with a fee, a spend or an ROI."""

    currency: CurrencyCode
    emv_cents: int
    creators: tuple[DocCreatorEmv, ...] = ()


class ReportDocument(ContractModel):
    """One campaign's report, as pulse_report.CampaignReport (+ StaffFigures for staff)."""

    campaign: DocCampaign
    client: DocClient | None = None
    # The numbers document's own client-visible types: one field list for every reader.
    kpis: ClientKpis
    daily: tuple[DailyPoint, ...] = ()
    platforms: tuple[PlatformSplit, ...] = ()
    creators: tuple[DocCreator, ...] = ()
    generated_at: datetime
    forecast: DocForecast | None = None
    emv: DocEmv | None = None
    staff: DocStaffFigures | None = None


@register
class ReportRequested(EventData):
    """Render this job (again, when `attempt` is higher than the one the reporter holds)."""

    event_type = "report.requested"
    job_id: UUID
    attempt: int = Field(default=1, ge=1)
    requested_by: Requester
    audience: Audience
    format: ReportFormat
    title: ShortText
    sections: tuple[ReportSection, ...] = REPORT_SECTIONS
    period_from: date | None = None
    period_to: date | None = None
    documents: tuple[ReportDocument, ...] = Field(min_length=1, max_length=MAX_REPORT_CAMPAIGNS)

    @model_validator(mode="after")
    def _client_reports_carry_no_money(self) -> ReportRequested:
        # The guarantee behind share's allow-list, at the wire: a client job with money in it
        # is refused to the DLQ instead of rendered.
        if self.audience == "client" and any(d.staff is not None for d in self.documents):
            raise ValueError("a client report must not carry staff figures")
        return self


@register
class ReportProgressed(EventData):
    """A job's state as the reporter holds it: running with progress, done, or failed."""

    event_type = "report.progressed"
    job_id: UUID
    attempt: int = Field(ge=1)
    requested_by: Requester
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    error: LongText | None = None
    filename: ShortText | None = None
    media_type: ShortText | None = None
    size_bytes: int | None = None
    expires_at: datetime | None = None
