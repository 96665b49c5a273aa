"""What a report job becomes, without I/O: the view models, the pages, the table rows, names.

The job's documents mirror pulse_report's view model field by field (from_fields copies
them by name); a client job never reaches the staff figures (the contract
refuses one that carries them, and `views` drops them for a client audience regardless).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pulse_contracts.reports import ReportDocument, ReportFormat, ReportRequested
from pulse_report import (
    CampaignReport,
    ReportCampaign,
    ReportClient,
    ReportCounters,
    ReportCreator,
    ReportCreatorEmv,
    ReportDay,
    ReportEmv,
    ReportForecast,
    ReportKpis,
    ReportPlatform,
    ReportPost,
    from_fields,
    report_filename,
    report_page,
)
from pulse_report.staff import StaffBooking, StaffFigures, staff_report_page

MEDIA_TYPES: dict[ReportFormat, str] = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
POST_COLUMNS = (
    "campaign",
    "creator",
    "tier",
    "platform",
    "posted_at",
    "url",
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "estimated",
)
SUMMARY_COLUMNS = (
    "campaign",
    "client",
    "start_date",
    "end_date",
    "actual_views",
    "committed_views",
    "actual_engagement",
    "committed_engagement",
    "actual_posts",
    "committed_posts",
    "kpi_pct",
    "engagement_rate",
)
MONEY_COLUMNS = ("currency", "budget", "spend", "cpm", "cpe", "emv_currency", "emv_estimate", "roi")
# Progress the requester sees: claimed, then a share per document laid out, then stored.
PROGRESS_CLAIMED = 5
PROGRESS_RENDERED = 95

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class View:
    report: CampaignReport
    staff: StaffFigures | None


def views(request: ReportRequested) -> list[View]:
    """Each document as the renderer's view model; staff figures only for a staff audience."""
    found = []
    for doc in request.documents:
        staff = None
        if request.audience == "staff" and doc.staff is not None:
            s = doc.staff
            staff = StaffFigures(
                currency=s.currency,
                budget_cents=s.budget_cents,
                spend_cents=s.spend_cents,
                cpm=s.cpm,
                cpe=s.cpe,
                bookings=tuple(from_fields(StaffBooking, b) for b in s.bookings),
                emv_currency=s.emv_currency,
                emv_cents=s.emv_cents,
                roi=s.roi,
            )
        found.append(View(report=campaign_report(doc), staff=staff))
    return found


def campaign_report(doc: ReportDocument) -> CampaignReport:
    """Field by field (pulse_report.from_fields): the document's names are the model's."""
    return CampaignReport(
        campaign=from_fields(ReportCampaign, doc.campaign),
        client=from_fields(ReportClient, doc.client) if doc.client else None,
        kpis=from_fields(ReportKpis, doc.kpis),
        daily=tuple(from_fields(ReportDay, d) for d in doc.daily),
        platforms=tuple(from_fields(ReportPlatform, p) for p in doc.platforms),
        creators=tuple(
            ReportCreator(
                display_name=c.display_name,
                avatar_src=c.avatar_src,
                tier=c.tier,
                platforms=tuple(c.platforms),
                actual_views=c.actual_views,
                actual_engagement=c.actual_engagement,
                engagement_rate=c.engagement_rate,
                posts=tuple(
                    ReportPost(
                        platform=p.platform,
                        url=p.url,
                        thumb_src=p.thumb_src,
                        posted_at=p.posted_at,
                        caption=p.caption,
                        counters=from_fields(ReportCounters, p.counters) if p.counters else None,
                    )
                    for p in c.posts
                ),
            )
            for c in doc.creators
        ),
        generated_at=doc.generated_at,
        forecast=from_fields(ReportForecast, doc.forecast) if doc.forecast else None,
        emv=ReportEmv(
            currency=doc.emv.currency,
            emv_cents=doc.emv.emv_cents,
            creators=tuple(from_fields(ReportCreatorEmv, c) for c in doc.emv.creators),
        )
        if doc.emv
        else None,
    )


def page_htmls(request: ReportRequested) -> list[str]:
    """One printable page per campaign, with the sections the job asked for."""
    return [
        (
            staff_report_page(v.report, v.staff, sections=request.sections).html
            if v.staff is not None
            else report_page(v.report, for_print=True, sections=request.sections).html
        )
        for v in views(request)
    ]


def filename(request: ReportRequested) -> str:
    """`<slug>-report.<format>`: the same ASCII-only slug as the PDF has always had."""
    stem = report_filename(request.title).removesuffix(".pdf")
    return f"{stem}.{request.format}"


def expires_at(now: datetime, retention_days: float) -> datetime:
    return now + timedelta(days=retention_days)


def document_progress(done: int, total: int) -> int:
    """Between claimed and rendered, in proportion to the documents laid out so far."""
    span = PROGRESS_RENDERED - PROGRESS_CLAIMED
    return PROGRESS_CLAIMED + (span * done) // max(total, 1)


def post_rows(documents: Sequence[ReportDocument]) -> list[tuple[Cell, ...]]:
    """One row per post, the posts of each creator in the order the report shows them."""
    rows: list[tuple[Cell, ...]] = []
    for doc in documents:
        for creator in doc.creators:
            for post in creator.posts:
                n = post.counters
                rows.append(
                    (
                        doc.campaign.name,
                        creator.display_name,
                        creator.tier,
                        post.platform,
                        post.posted_at.isoformat() if post.posted_at else None,
                        post.url,
                        n.views if n else None,
                        n.likes if n else None,
                        n.comments if n else None,
                        n.shares if n else None,
                        n.saves if n else None,
                        n.estimated if n else None,
                    )
                )
    return rows


def summary_columns(request: ReportRequested) -> tuple[str, ...]:
    return SUMMARY_COLUMNS + (MONEY_COLUMNS if request.audience == "staff" else ())


def summary_rows(request: ReportRequested) -> list[tuple[Cell, ...]]:
    """One row per campaign: its KPIs, and for the agency's own report its money."""
    rows: list[tuple[Cell, ...]] = []
    for doc in request.documents:
        k = doc.kpis
        row: tuple[Cell, ...] = (
            doc.campaign.name,
            doc.client.name if doc.client else None,
            doc.campaign.start_date.isoformat() if doc.campaign.start_date else None,
            doc.campaign.end_date.isoformat() if doc.campaign.end_date else None,
            k.actual_views,
            k.committed_views,
            k.actual_engagement,
            k.committed_engagement,
            k.actual_posts,
            k.committed_posts,
            k.kpi_pct,
            k.engagement_rate,
        )
        if request.audience == "staff":
            s = doc.staff
            row += (
                (
                    s.currency,
                    _units(s.budget_cents),
                    _units(s.spend_cents),
                    s.cpm,
                    s.cpe,
                    s.emv_currency,
                    _units(s.emv_cents),
                    s.roi,
                )
                if s
                else (None,) * len(MONEY_COLUMNS)
            )
        rows.append(row)
    return rows


def _units(cents: int | None) -> str | None:
    """Exact decimal text, never a float: a spreadsheet reads it as the number it is."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


# Scheduled client reports: when each period's report is due, and what it is called.
SEND_HOUR_UTC = 8  # weekly reports on Monday morning, monthly ones on the 1st


def first_due(cadence: str, now: datetime) -> datetime:
    """The next Monday (weekly) or the next 1st of a month (monthly), 08:00 UTC."""
    day = now.astimezone(UTC).replace(hour=SEND_HOUR_UTC, minute=0, second=0, microsecond=0)
    if cadence == "weekly":
        ahead = (7 - day.weekday()) % 7 or 7
        return day + timedelta(days=ahead)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(year=year, month=month, day=1)


def next_due(cadence: str, due: datetime, now: datetime) -> datetime:
    """The period after `due`, skipping periods wholly missed while nothing ran: after a long
    outage the current period is sent once, not a backlog of old ones."""
    following = _step(cadence, due)
    while following <= now:
        following = _step(cadence, following)
    return following


def _step(cadence: str, due: datetime) -> datetime:
    if cadence == "weekly":
        return due + timedelta(days=7)
    year, month = (due.year + 1, 1) if due.month == 12 else (due.year, due.month + 1)
    return due.replace(year=year, month=month, day=min(due.day, 28))


def period_of(cadence: str, due: datetime) -> str:
    """The period a due moment stands for: ISO week (2026-W49) or month (2026-12)."""
    moment = due.astimezone(UTC)
    if cadence == "weekly":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{moment.year}-{moment.month:02d}"
