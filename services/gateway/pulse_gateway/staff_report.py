"""The agency's own campaign report: the aggregator's numbers and the catalog's names, mapped
onto the shared report (pulse_report) with the internal figures (fees, spend, CPM, CPE, and
the earned media value with its ROI)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pulse_contracts.emv import CampaignEmv
from pulse_contracts.numbers import (
    CampaignNumbers,
    CreatorNumbers,
    PostNumbers,
    by_views_then_name,
    creators_with_posts,
)
from pulse_report import (
    CampaignReport,
    ReportCampaign,
    ReportClient,
    ReportCounters,
    ReportCreator,
    ReportDay,
    ReportKpis,
    ReportPlatform,
    ReportPost,
    from_fields,
)
from pulse_report.staff import StaffBooking, StaffFigures

UNNAMED_CREATOR = "Creator"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    name: str
    brand_color: str | None


@dataclass(frozen=True, slots=True)
class CreatorInfo:
    display_name: str
    tier: str | None
    platforms: tuple[str, ...]


def staff_report(
    doc: CampaignNumbers,
    *,
    client: ClientInfo | None,
    creators: Mapping[UUID, CreatorInfo],
    generated_at: datetime,
    emv: CampaignEmv | None = None,
) -> tuple[CampaignReport, StaffFigures]:
    """The report and its internal figures. Images are left out: the PDF fetches nothing.
    `emv` is the document's earned media value at the organization's current rates."""
    c = doc.campaign
    report = CampaignReport(
        campaign=ReportCampaign(
            name=c.name or "", status=c.status, start_date=c.start_date, end_date=c.end_date
        ),
        client=ReportClient(name=client.name, brand_color=client.brand_color) if client else None,
        kpis=from_fields(ReportKpis, c),
        daily=tuple(from_fields(ReportDay, d) for d in doc.daily),
        platforms=tuple(from_fields(ReportPlatform, p) for p in doc.platforms),
        creators=_creators(doc, creators),
        generated_at=generated_at,
    )

    def name_of(influencer_id: UUID | None) -> str:
        info = creators.get(influencer_id) if influencer_id else None
        return info.display_name if info else UNNAMED_CREATOR

    staff = StaffFigures(
        currency=c.currency,
        budget_cents=c.budget_cents,
        spend_cents=c.spend_cents,
        cpm=c.cpm,
        cpe=c.cpe,
        bookings=tuple(
            StaffBooking(
                creator=name_of(b.influencer_id),
                fee_cents=b.fee_cents,
                actual_views=b.actual_views,
                actual_engagement=b.actual_engagement,
                kpi_pct=b.kpi_pct,
                cpm=b.cpm,
                cpe=b.cpe,
            )
            for b in sorted(doc.bookings, key=lambda b: (-b.fee_cents, name_of(b.influencer_id)))
        ),
        emv_currency=emv.currency if emv else None,
        emv_cents=emv.emv_cents if emv else None,
        roi=emv.roi if emv else None,
    )
    return report, staff


def _creators(doc: CampaignNumbers, infos: Mapping[UUID, CreatorInfo]) -> tuple[ReportCreator, ...]:
    """One card per creator of the document (CreatorNumbers: its one rule), as the client's
    view shows them."""
    cards = [_card(c, posts, infos) for c, posts in creators_with_posts(doc.creators, doc.posts)]
    cards.sort(key=lambda card: by_views_then_name(card.actual_views, card.display_name))
    return tuple(cards)


def _card(
    creator: CreatorNumbers, posts: list[PostNumbers], infos: Mapping[UUID, CreatorInfo]
) -> ReportCreator:
    info = infos.get(creator.influencer_id) if creator.influencer_id else None
    platforms = set(info.platforms if info else ()) | {p.platform for p in posts}
    return ReportCreator(
        display_name=info.display_name if info else UNNAMED_CREATOR,
        avatar_src=None,
        tier=info.tier if info else None,
        platforms=tuple(sorted(platforms)),
        actual_views=creator.actual_views,
        actual_engagement=creator.actual_engagement,
        engagement_rate=creator.engagement_rate,
        posts=tuple(
            ReportPost(
                platform=p.platform,
                url=p.url,
                thumb_src=None,
                posted_at=p.posted_at,
                caption=p.caption,
                counters=(
                    ReportCounters(
                        views=p.latest.views,
                        likes=p.latest.likes,
                        comments=p.latest.comments,
                        shares=p.latest.shares,
                        saves=p.latest.saves,
                        estimated=p.latest.estimated,
                    )
                    if p.latest
                    else None
                ),
            )
            for p in posts
        ),
    )
