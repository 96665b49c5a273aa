"""What a client may see, and when: the allow-listed share projection and the link rules. Pure.

Every model here is built field by field from the allow-list of design/api.md ("Share"):
nothing is ever copied whole from a catalog event or a kpi.updated document and then pruned,
so a field added upstream (a new cost, a note) stays out of share until someone lists it here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from pydantic import Field, model_validator

from pulse_contracts.catalog import (
    BookingUpserted,
    CampaignUpserted,
    ClientUpserted,
    InfluencerUpserted,
)
from pulse_contracts.envelope import ContractModel
from pulse_contracts.forecast import DeliveryForecast
from pulse_contracts.numbers import (
    CampaignNumbers,
    ClientKpis,
    CreatorNumbers,
    DailyPoint,
    LatestCounters,
    PlatformSplit,
    by_views_then_name,
    creator_figures,
    creators_with_posts,
)
from pulse_contracts.values import CampaignStatus, Platform

from .media import cdn_url, https_url, safe_color
from .messages import CountersRead, NumbersRead

UNNAMED_CREATOR = "Creator"
T = TypeVar("T")


# --- reference copies: the catalog reduced to what a client may see ---------------------------


@dataclass(frozen=True, slots=True)
class ClientRef:
    id: UUID
    name: str
    brand_color: str | None
    logo_url: str | None


@dataclass(frozen=True, slots=True)
class CampaignRef:
    id: UUID
    client_id: UUID | None
    name: str | None
    status: CampaignStatus | None
    start_date: date | None
    end_date: date | None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class InfluencerRef:
    id: UUID
    display_name: str
    avatar_url: str | None
    tier: str | None
    platforms: tuple[Platform, ...]


@dataclass(frozen=True, slots=True)
class BookingRef:
    """Which creator a booking is, and nothing else: no fee, no commitment."""

    id: UUID
    campaign_id: UUID
    influencer_id: UUID | None
    deleted: bool = False


@dataclass(frozen=True)
class ShareRefs:
    """The reference copies one campaign's projection is built from."""

    campaign: CampaignRef | None = None
    client: ClientRef | None = None
    influencers: Mapping[UUID, InfluencerRef] = field(default_factory=dict)
    bookings: Mapping[UUID, BookingRef] = field(default_factory=dict)


def client_ref(event: ClientUpserted) -> ClientRef:
    return ClientRef(
        id=event.id,
        name=event.name,
        brand_color=safe_color(event.brand_color),
        logo_url=https_url(event.logo_url),
    )


def campaign_ref(event: CampaignUpserted) -> CampaignRef:
    return CampaignRef(
        id=event.id,
        client_id=event.client_id,
        name=event.name,
        status=event.status,
        start_date=event.start_date,
        end_date=event.end_date,
    )


def influencer_ref(event: InfluencerUpserted) -> InfluencerRef:
    return InfluencerRef(
        id=event.id,
        display_name=event.display_name,
        avatar_url=https_url(event.avatar_url),
        tier=event.tier,
        platforms=tuple(sorted({h.platform for h in event.handles})),
    )


def booking_ref(event: BookingUpserted) -> BookingRef:
    return BookingRef(id=event.id, campaign_id=event.campaign_id, influencer_id=event.influencer_id)


# --- the redacted numbers: the allow-listed part of a kpi.updated document ----------------------


class ShareCounters(ContractModel):
    """A post's latest public counters; None where the platform does not expose one."""

    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    reach: int | None
    engagement: int
    estimated: bool


class BookingActuals(ContractModel):
    """A booking's actuals, held to tell creators of older stored documents apart (see
    ShareNumbers); its commitments never enter."""

    booking_id: UUID
    influencer_id: UUID | None
    actual_views: int
    actual_engagement: int
    actual_posts: int = 0


class PostFigures(ContractModel):
    booking_id: UUID
    influencer_id: UUID | None
    platform: Platform
    url: str | None
    thumb_url: str | None
    posted_at: datetime | None
    caption: str | None
    counters: ShareCounters | None


class ShareNumbers(ContractModel):
    """What share stores of a kpi.updated document. Ids are kept only for joins with the
    reference copies; the payload built from this carries none of them."""

    client_id: UUID | None
    name: str | None
    status: CampaignStatus | None
    start_date: date | None
    end_date: date | None
    kpis: ClientKpis
    daily: list[DailyPoint]
    platforms: list[PlatformSplit]
    bookings: list[BookingActuals]
    posts: list[PostFigures]
    as_of: datetime
    # The campaign's delivery forecast (no money in it); a link shows it only when it opted in.
    forecast: DeliveryForecast | None = None
    # The document's per-creator actuals (no money in them). Numbers stored before documents
    # carried creators get them from their bookings by the same rule (creator_figures).
    creators: list[CreatorNumbers] = Field(default_factory=list)

    @model_validator(mode="after")
    def _creators_of_older_documents(self) -> ShareNumbers:
        if self.bookings and not self.creators:
            object.__setattr__(self, "creators", creator_figures(self.bookings))
        return self


def _counters(latest: LatestCounters | CountersRead | None) -> ShareCounters | None:
    if latest is None:
        return None
    return ShareCounters(
        views=latest.views,
        likes=latest.likes,
        comments=latest.comments,
        shares=latest.shares,
        saves=latest.saves,
        reach=latest.reach,
        engagement=latest.engagement,
        estimated=latest.estimated,
    )


def redact_numbers(doc: CampaignNumbers | NumbersRead) -> ShareNumbers:
    """The allow-listed numbers of a kpi.updated document, built field by field: the same
    from the document as share's subscriber decodes it (messages.py) as from the whole one."""
    c = doc.campaign
    return ShareNumbers(
        client_id=c.client_id,
        name=c.name,
        status=c.status,
        start_date=c.start_date,
        end_date=c.end_date,
        # Field by field over the client's own type, so a money field of the campaign's
        # figures can never ride along.
        kpis=ClientKpis(**{name: getattr(c, name) for name in ClientKpis.model_fields}),
        daily=list(doc.daily),
        platforms=list(doc.platforms),
        bookings=[
            BookingActuals(
                booking_id=b.booking_id,
                influencer_id=b.influencer_id,
                actual_views=b.actual_views,
                actual_engagement=b.actual_engagement,
                actual_posts=b.actual_posts,
            )
            for b in doc.bookings
        ],
        creators=[
            CreatorNumbers(
                influencer_id=c.influencer_id,
                booking_ids=list(c.booking_ids),
                actual_views=c.actual_views,
                actual_engagement=c.actual_engagement,
                actual_posts=c.actual_posts,
                engagement_rate=c.engagement_rate,
            )
            for c in doc.creators
        ],
        posts=[
            PostFigures(
                booking_id=p.booking_id,
                influencer_id=p.influencer_id,
                platform=p.platform,
                url=https_url(p.url),
                thumb_url=cdn_url(p.thumb_url),
                posted_at=p.posted_at,
                caption=p.caption,
                counters=_counters(p.latest),
            )
            for p in doc.posts
        ],
        as_of=doc.as_of,
        forecast=c.forecast,
    )


# --- the payload: what a link shows -----------------------------------------------------------


class ShareCampaign(ContractModel):
    name: str
    status: CampaignStatus | None
    start_date: date | None
    end_date: date | None


class ShareClient(ContractModel):
    name: str
    brand_color: str | None
    logo_url: str | None


class SharePost(ContractModel):
    platform: Platform
    url: str | None
    # A platform-CDN thumbnail, or None: anything else is never shown (see cdn_url).
    thumb_url: str | None
    posted_at: datetime | None
    caption: str | None
    counters: ShareCounters | None


class ShareInfluencer(ContractModel):
    display_name: str
    avatar_url: str | None
    tier: str | None
    platforms: list[Platform]
    actual_views: int
    actual_engagement: int
    engagement_rate: float | None
    posts: list[SharePost]


class SharePayload(ContractModel):
    """The redacted campaign a share link shows (design/api.md's allow-list, literally)."""

    campaign: ShareCampaign
    client: ShareClient | None
    kpis: ClientKpis
    daily: list[DailyPoint]
    platforms: list[PlatformSplit]
    influencers: list[ShareInfluencer]
    generated_at: datetime


EMPTY_KPIS = ClientKpis()


def redact(
    doc: CampaignNumbers | NumbersRead, refs: ShareRefs, generated_at: datetime
) -> SharePayload:
    """A kpi.updated document and the catalog copies, reduced to the client's payload."""
    payload = build_payload(redact_numbers(doc), refs, generated_at)
    assert payload is not None  # numbers are present, so there is always something to show
    return payload


def build_payload(
    numbers: ShareNumbers | None, refs: ShareRefs, generated_at: datetime
) -> SharePayload | None:
    """The projection from stored numbers and copies; None when there is nothing to show
    (a deleted campaign, or neither numbers nor a catalog copy yet)."""
    ref = refs.campaign
    if (ref is not None and ref.deleted) or (numbers is None and ref is None):
        return None
    campaign = ShareCampaign(
        name=_first(ref.name if ref else None, numbers.name if numbers else None) or "",
        status=_first(ref.status if ref else None, numbers.status if numbers else None),
        start_date=_first(ref.start_date if ref else None, numbers.start_date if numbers else None),
        end_date=_first(ref.end_date if ref else None, numbers.end_date if numbers else None),
    )
    client = (
        ShareClient(
            name=refs.client.name,
            brand_color=safe_color(refs.client.brand_color),
            logo_url=https_url(refs.client.logo_url),
        )
        if refs.client is not None
        else None
    )
    if numbers is None:
        return SharePayload(
            campaign=campaign,
            client=client,
            kpis=EMPTY_KPIS,
            daily=[],
            platforms=[],
            influencers=[],
            generated_at=generated_at,
        )
    return SharePayload(
        campaign=campaign,
        client=client,
        kpis=numbers.kpis,
        daily=list(numbers.daily),
        platforms=list(numbers.platforms),
        influencers=_influencers(numbers, refs),
        generated_at=generated_at,
    )


def _first(*values: T | None) -> T | None:
    return next((v for v in values if v is not None), None)


def _influencers(numbers: ShareNumbers, refs: ShareRefs) -> list[ShareInfluencer]:
    """One entry per creator of the document (CreatorNumbers: its one rule), with its posts."""
    entries = [
        _influencer(c, posts, refs)
        for c, posts in creators_with_posts(numbers.creators, numbers.posts)
    ]
    entries.sort(key=lambda e: by_views_then_name(e.actual_views, e.display_name))
    return entries


def _who(creator: CreatorNumbers, refs: ShareRefs) -> InfluencerRef | None:
    # Naming only, never the figures: a booking the document does not name yet (its catalog
    # event came after the numbers) is named from the catalog copy when that already knows.
    influencer_id = creator.influencer_id
    if influencer_id is None and len(creator.booking_ids) == 1:
        booking = refs.bookings.get(creator.booking_ids[0])
        influencer_id = booking.influencer_id if booking is not None else None
    return refs.influencers.get(influencer_id) if influencer_id else None


def _influencer(
    creator: CreatorNumbers, posts: list[PostFigures], refs: ShareRefs
) -> ShareInfluencer:
    ref = _who(creator, refs)
    platforms = set(ref.platforms if ref else ()) | {p.platform for p in posts}
    return ShareInfluencer(
        display_name=ref.display_name if ref else UNNAMED_CREATOR,
        avatar_url=https_url(ref.avatar_url) if ref else None,
        tier=ref.tier if ref else None,
        platforms=sorted(platforms),
        actual_views=creator.actual_views,
        actual_engagement=creator.actual_engagement,
        engagement_rate=creator.engagement_rate,
        posts=[
            SharePost(
                platform=p.platform,
                url=https_url(p.url),
                thumb_url=cdn_url(p.thumb_url),
                posted_at=p.posted_at,
                caption=p.caption,
                counters=p.counters,
            )
            for p in posts
        ],
    )


def distinct(values: Iterable[UUID]) -> list[UUID]:
    """Sorted unique ids: one lock order for every transaction."""
    return sorted(set(values))
