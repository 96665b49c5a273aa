"""What a campaign report shows, in neutral terms: no money anywhere (see staff.py for that).

Every audience builds this view model from its own data: share from its redacted projection,
the gateway from the aggregator's numbers and the catalog. Image sources are URLs the reader's
browser may load (the audience's own media proxy), or None for a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def from_fields(cls: type[T], source: Any) -> T:
    """A report part from the same-named attributes of an upstream object.

    The KPI, daily and platform parts name their fields exactly as the numbers document does
    (and so as share's redacted projection does), so every audience copies them the same way.
    """
    return cls(**{f.name: getattr(source, f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ReportCampaign:
    name: str
    status: str | None
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True, slots=True)
class ReportClient:
    name: str
    brand_color: str | None
    logo_src: str | None = None


@dataclass(frozen=True, slots=True)
class ReportKpis:
    """Campaign-level commitments and KPIs (design/kpis.md), as computed upstream."""

    committed_views: int | None
    committed_engagement: int | None
    committed_posts: int | None
    actual_views: int
    actual_engagement: int
    actual_posts: int
    views_pct: float | None
    engagement_pct: float | None
    posts_pct: float | None
    kpi_pct: float | None
    engagement_rate: float | None
    timeline_pct: float | None


@dataclass(frozen=True, slots=True)
class ReportDay:
    date: date
    views_cum: int
    views_delta: int
    engagement_cum: int
    engagement_delta: int
    posts_live: int


@dataclass(frozen=True, slots=True)
class ReportPlatform:
    platform: str
    views: int
    engagement: int


@dataclass(frozen=True, slots=True)
class ReportCounters:
    """A post's latest public counters; None where the platform does not expose one."""

    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    estimated: bool


@dataclass(frozen=True, slots=True)
class ReportPost:
    platform: str
    url: str | None
    thumb_src: str | None
    posted_at: datetime | None
    caption: str | None
    counters: ReportCounters | None


@dataclass(frozen=True, slots=True)
class ReportCreator:
    display_name: str
    avatar_src: str | None
    tier: str | None
    platforms: tuple[str, ...]
    actual_views: int
    actual_engagement: int
    engagement_rate: float | None
    posts: tuple[ReportPost, ...]


@dataclass(frozen=True, slots=True)
class ReportForecast:
    """The delivery forecast at the end date (docs/insights.md): an estimate with its band."""

    status: str  # "projected", "final" or "not_enough_data" (then every figure is None)
    views: int | None
    views_low: int | None
    views_high: int | None
    engagement: int | None
    engagement_low: int | None
    engagement_high: int | None
    posts: int | None
    posts_low: int | None
    posts_high: int | None


@dataclass(frozen=True, slots=True)
class ReportCreatorEmv:
    display_name: str
    emv_cents: int


@dataclass(frozen=True, slots=True)
class ReportEmv:
    """Earned media value (docs/insights.md): an estimate in money, so only where its reader
    may see it (a share link that opted in). Never a fee, a spend or an ROI beside it."""

    currency: str
    emv_cents: int
    creators: tuple[ReportCreatorEmv, ...] = ()


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """The campaign header, KPI cards, daily series, platform split and creator grid."""

    campaign: ReportCampaign
    client: ReportClient | None
    kpis: ReportKpis
    daily: tuple[ReportDay, ...]
    platforms: tuple[ReportPlatform, ...]
    creators: tuple[ReportCreator, ...]
    generated_at: datetime
    forecast: ReportForecast | None = None  # only where the report's reader may see it
    emv: ReportEmv | None = None  # only where the report's reader may see it
