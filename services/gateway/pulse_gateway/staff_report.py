"""The agency's own campaign report: the aggregator's numbers and the catalog's names, mapped
onto the shared report (pulse_report) with the internal figures (fees, spend, CPM, CPE)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from uuid import UUID

from pulse_contracts.numbers import CampaignNumbers, PostNumbers, round_half_up
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


@dataclass
class _Creator:
    info: CreatorInfo | None
    views: int = 0
    engagement: int = 0
    posts: list[PostNumbers] = field(default_factory=list)


def staff_report(
    doc: CampaignNumbers,
    *,
    client: ClientInfo | None,
    creators: Mapping[UUID, CreatorInfo],
    generated_at: datetime,
) -> tuple[CampaignReport, StaffFigures]:
    """The report and its internal figures. Images are left out: the PDF fetches nothing."""
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
    )
    return report, staff


def _creators(doc: CampaignNumbers, infos: Mapping[UUID, CreatorInfo]) -> tuple[ReportCreator, ...]:
    """One card per creator, their bookings summed (as the client's view groups them)."""
    grouped: dict[UUID, _Creator] = {}
    creator_of = {b.booking_id: b.influencer_id or b.booking_id for b in doc.bookings}
    for b in doc.bookings:
        key = creator_of[b.booking_id]
        entry = grouped.setdefault(key, _Creator(infos.get(key)))
        entry.views += b.actual_views
        entry.engagement += b.actual_engagement
    for p in doc.posts:
        key = creator_of.get(p.booking_id) or p.influencer_id or p.booking_id
        grouped.setdefault(key, _Creator(infos.get(key))).posts.append(p)
    cards = [_card(entry) for entry in grouped.values()]
    cards.sort(key=lambda card: (-card.actual_views, card.display_name.casefold()))
    return tuple(cards)


def _card(entry: _Creator) -> ReportCreator:
    info = entry.info
    platforms = set(info.platforms if info else ()) | {p.platform for p in entry.posts}
    return ReportCreator(
        display_name=info.display_name if info else UNNAMED_CREATOR,
        avatar_src=None,
        tier=info.tier if info else None,
        platforms=tuple(sorted(platforms)),
        actual_views=entry.views,
        actual_engagement=entry.engagement,
        engagement_rate=(
            round_half_up(Fraction(entry.engagement * 100, entry.views)) if entry.views else None
        ),
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
            for p in sorted(entry.posts, key=_post_order)
        ),
    )


def _post_order(p: PostNumbers) -> tuple[bool, str, str, str]:
    return (
        p.posted_at is None,
        p.posted_at.isoformat() if p.posted_at else "",
        p.platform,
        p.url or "",
    )
