"""Compare (design/kpis.md): 2–3 campaigns side by side with the winner of each metric."""

from collections.abc import Sequence
from uuid import UUID

from .envelope import ContractModel
from .numbers import CampaignNumbers


class CompareEntry(ContractModel):
    campaign_id: UUID
    name: str | None
    currency: str | None
    actual_views: int
    actual_engagement: int
    engagement_rate: float | None
    kpi_pct: float | None
    actual_posts: int
    spend_cents: int
    cpm: float | None
    cpe: float | None


class CompareWinners(ContractModel):
    """The winning campaign ids per metric (all tied ones); empty when nothing can win."""

    actual_views: list[UUID]
    actual_engagement: list[UUID]
    engagement_rate: list[UUID]
    kpi_pct: list[UUID]
    actual_posts: list[UUID]
    cpm: list[UUID]
    cpe: list[UUID]


class CompareResult(ContractModel):
    campaigns: list[CompareEntry]
    winners: CompareWinners
    # False when the currencies differ (or one is unknown): money is then shown without winners.
    money_comparable: bool


def _winners(
    entries: Sequence[CompareEntry], values: Sequence[float | None], *, least: bool = False
) -> list[UUID]:
    # Ties are judged on the reported (rounded) values: what the user sees as equal, wins equally.
    present = [v for v in values if v is not None]
    if not present:
        return []
    best = min(present) if least else max(present)
    return [e.campaign_id for e, v in zip(entries, values, strict=True) if v == best]


def compare_campaigns(docs: Sequence[CampaignNumbers]) -> CompareResult:
    """Side by side figures with winners per metric (kpis.md Compare), in the order given."""
    entries = [
        CompareEntry(
            campaign_id=d.campaign.campaign_id,
            name=d.campaign.name,
            currency=d.campaign.currency,
            actual_views=d.campaign.actual_views,
            actual_engagement=d.campaign.actual_engagement,
            engagement_rate=d.campaign.engagement_rate,
            kpi_pct=d.campaign.kpi_pct,
            actual_posts=d.campaign.actual_posts,
            spend_cents=d.campaign.spend_cents,
            cpm=d.campaign.cpm,
            cpe=d.campaign.cpe,
        )
        for d in docs
    ]
    currencies = {e.currency for e in entries}
    money_comparable = len(currencies) == 1 and None not in currencies
    winners = CompareWinners(
        actual_views=_winners(entries, [e.actual_views for e in entries]),
        actual_engagement=_winners(entries, [e.actual_engagement for e in entries]),
        engagement_rate=_winners(entries, [e.engagement_rate for e in entries]),
        kpi_pct=_winners(entries, [e.kpi_pct for e in entries]),
        actual_posts=_winners(entries, [e.actual_posts for e in entries]),
        cpm=_winners(entries, [e.cpm for e in entries], least=True) if money_comparable else [],
        cpe=_winners(entries, [e.cpe for e in entries], least=True) if money_comparable else [],
    )
    return CompareResult(campaigns=entries, winners=winners, money_comparable=money_comparable)
