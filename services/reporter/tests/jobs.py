"""Report jobs as a requester would send them: a campaign document of any size."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from pulse_contracts import utcnow
from pulse_contracts.numbers import ClientKpis, DailyPoint, PlatformSplit
from pulse_contracts.reports import (
    DocCampaign,
    DocClient,
    DocCounters,
    DocCreator,
    DocPost,
    DocStaffBooking,
    DocStaffFigures,
    ReportDocument,
    ReportFormat,
    ReportRequested,
)

FEE_CENTS = 1_234_567_89  # no count in a report can reach it: finding it is a leak
EMV_CENTS = 4_567_890_12  # the staff figures' EMV estimate, and its ROI (EMV ÷ spend)
ROI = 3.7


def document(
    *, creators: int = 3, posts: int = 2, days: int = 30, staff: bool = False
) -> ReportDocument:
    today = utcnow().date()
    start = today - timedelta(days=days)
    return ReportDocument(
        campaign=DocCampaign(name="Summer Glow", status="live", start_date=start, end_date=today),
        client=DocClient(name="Lumen Cosmetics", brand_color="#c2185b"),
        kpis=ClientKpis(
            committed_views=1_000_000,
            committed_engagement=50_000,
            committed_posts=creators * posts,
            actual_views=640_000,
            actual_engagement=31_000,
            actual_posts=creators * posts,
            views_pct=64.0,
            engagement_pct=62.0,
            posts_pct=100.0,
            kpi_pct=62.0,
            engagement_rate=4.84,
            timeline_pct=70.0,
        ),
        daily=tuple(
            DailyPoint(
                date=start + timedelta(days=d),
                views_cum=20_000 * (d + 1),
                views_delta=20_000,
                engagement_cum=1_000 * (d + 1),
                engagement_delta=1_000,
                posts_live=min(d + 1, creators * posts),
            )
            for d in range(days)
        ),
        platforms=(
            PlatformSplit(platform="tiktok", views=400_000, engagement=20_000),
            PlatformSplit(platform="instagram", views=240_000, engagement=11_000),
        ),
        creators=tuple(
            DocCreator(
                display_name=f"Creator {c}",
                tier="micro",
                platforms=("tiktok",),
                actual_views=10_000 * c,
                actual_engagement=500 * c,
                engagement_rate=5.0,
                posts=tuple(
                    DocPost(
                        platform="tiktok",
                        url=f"https://www.tiktok.com/@c{c}/video/{p}",
                        posted_at=utcnow() - timedelta(days=p + 1),
                        caption=f'=HYPERLINK("x") post {p} of creator {c}',
                        counters=DocCounters(
                            views=1000 * p, likes=100, comments=10, shares=5, saves=2
                        ),
                    )
                    for p in range(posts)
                ),
            )
            for c in range(creators)
        ),
        generated_at=utcnow(),
        staff=(
            DocStaffFigures(
                currency="EUR",
                budget_cents=5_000_000_00,
                spend_cents=FEE_CENTS,
                emv_currency="EUR",
                emv_cents=EMV_CENTS,
                roi=ROI,
                bookings=(
                    DocStaffBooking(
                        creator="Creator 0",
                        fee_cents=FEE_CENTS,
                        actual_views=0,
                        actual_engagement=0,
                    ),
                ),
            )
            if staff
            else None
        ),
    )


def job(
    *,
    fmt: ReportFormat = "pdf",
    documents: int = 1,
    creators: int = 3,
    posts: int = 2,
    staff: bool = False,
    job_id: UUID | None = None,
    attempt: int = 1,
) -> ReportRequested:
    return ReportRequested(
        job_id=job_id or uuid4(),
        attempt=attempt,
        requested_by="gateway",
        audience="staff" if staff else "client",
        format=fmt,
        title="Summer Glow",
        documents=tuple(
            document(creators=creators, posts=posts, staff=staff) for _ in range(documents)
        ),
    )
