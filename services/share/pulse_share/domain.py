"""What a client may see, and when: the allow-listed share projection and the link rules. Pure.

Every model here is built field by field from the allow-list of design/api.md ("Share"):
nothing is ever copied whole from a catalog event or a kpi.updated document and then pruned,
so a field added upstream (a new cost, a note) stays out of share until someone lists it here.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Literal, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

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
    DailyPoint,
    LatestCounters,
    round_half_up,
    series_tail,
    timeline_pct,
)
from pulse_contracts.values import CampaignStatus, Platform

# Platform CDNs whose thumbnails the client view may show (design/security.md, "Media proxy").
CDN_SUFFIXES: tuple[str, ...] = (
    "tiktokcdn.com",
    "tiktokcdn-us.com",
    "cdninstagram.com",
    "fbcdn.net",
    "ytimg.com",
    "ggpht.com",
)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
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


class CampaignKpis(ContractModel):
    """Campaign-level commitments and KPIs: the only figures a client sees for the campaign."""

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


class ShareDay(ContractModel):
    date: date
    views_cum: int
    views_delta: int
    engagement_cum: int
    engagement_delta: int
    posts_live: int


class SharePlatform(ContractModel):
    platform: Platform
    views: int
    engagement: int


class BookingActuals(ContractModel):
    """A booking's actuals, held only to sum them per creator; its commitments never enter."""

    booking_id: UUID
    influencer_id: UUID | None
    actual_views: int
    actual_engagement: int


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
    kpis: CampaignKpis
    daily: list[ShareDay]
    platforms: list[SharePlatform]
    bookings: list[BookingActuals]
    posts: list[PostFigures]
    as_of: datetime
    # The campaign's delivery forecast (no money in it); a link shows it only when it opted in.
    forecast: DeliveryForecast | None = None


def _counters(latest: LatestCounters | None) -> ShareCounters | None:
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


def redact_numbers(doc: CampaignNumbers) -> ShareNumbers:
    """The allow-listed numbers of a kpi.updated document, built field by field."""
    c = doc.campaign
    return ShareNumbers(
        client_id=c.client_id,
        name=c.name,
        status=c.status,
        start_date=c.start_date,
        end_date=c.end_date,
        kpis=CampaignKpis(
            committed_views=c.committed_views,
            committed_engagement=c.committed_engagement,
            committed_posts=c.committed_posts,
            actual_views=c.actual_views,
            actual_engagement=c.actual_engagement,
            actual_posts=c.actual_posts,
            views_pct=c.views_pct,
            engagement_pct=c.engagement_pct,
            posts_pct=c.posts_pct,
            kpi_pct=c.kpi_pct,
            engagement_rate=c.engagement_rate,
            timeline_pct=c.timeline_pct,
        ),
        daily=[
            ShareDay(
                date=d.date,
                views_cum=d.views_cum,
                views_delta=d.views_delta,
                engagement_cum=d.engagement_cum,
                engagement_delta=d.engagement_delta,
                posts_live=d.posts_live,
            )
            for d in doc.daily
        ],
        platforms=[
            SharePlatform(platform=p.platform, views=p.views, engagement=p.engagement)
            for p in doc.platforms
        ],
        bookings=[
            BookingActuals(
                booking_id=b.booking_id,
                influencer_id=b.influencer_id,
                actual_views=b.actual_views,
                actual_engagement=b.actual_engagement,
            )
            for b in doc.bookings
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
    kpis: CampaignKpis
    daily: list[ShareDay]
    platforms: list[SharePlatform]
    influencers: list[ShareInfluencer]
    generated_at: datetime


EMPTY_KPIS = CampaignKpis(
    committed_views=None,
    committed_engagement=None,
    committed_posts=None,
    actual_views=0,
    actual_engagement=0,
    actual_posts=0,
    views_pct=None,
    engagement_pct=None,
    posts_pct=None,
    kpi_pct=None,
    engagement_rate=None,
    timeline_pct=None,
)


def redact(doc: CampaignNumbers, refs: ShareRefs, generated_at: datetime) -> SharePayload:
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


@dataclass
class _Creator:
    influencer_id: UUID | None
    views: int = 0
    engagement: int = 0
    posts: list[PostFigures] = field(default_factory=list)


def _influencers(numbers: ShareNumbers, refs: ShareRefs) -> list[ShareInfluencer]:
    """One entry per creator: their bookings' actuals summed, their posts listed."""
    creators: dict[UUID, _Creator] = {}
    # Who a booking is: the catalog copy first, then the numbers' own word for it.
    named = {b.booking_id: b.influencer_id for b in numbers.bookings if b.influencer_id}

    def creator(booking_id: UUID, fallback: UUID | None) -> _Creator | None:
        ref = refs.bookings.get(booking_id)
        if ref is not None and ref.deleted:
            return None
        influencer_id = (
            (ref.influencer_id if ref is not None else None) or named.get(booking_id) or fallback
        )
        # A booking whose creator is not known yet is its own entry, keyed by the booking.
        key = influencer_id or booking_id
        return creators.setdefault(key, _Creator(influencer_id))

    for b in numbers.bookings:
        if (c := creator(b.booking_id, b.influencer_id)) is not None:
            c.views += b.actual_views
            c.engagement += b.actual_engagement
    for p in numbers.posts:
        if (c := creator(p.booking_id, p.influencer_id)) is not None:
            c.posts.append(p)

    entries = [_influencer(c, refs) for c in creators.values()]
    entries.sort(key=lambda e: (-e.actual_views, e.display_name.casefold()))
    return entries


def _influencer(c: _Creator, refs: ShareRefs) -> ShareInfluencer:
    ref = refs.influencers.get(c.influencer_id) if c.influencer_id else None
    platforms = set(ref.platforms if ref else ()) | {p.platform for p in c.posts}
    posts = sorted(c.posts, key=_post_order)
    return ShareInfluencer(
        display_name=ref.display_name if ref else UNNAMED_CREATOR,
        avatar_url=https_url(ref.avatar_url) if ref else None,
        tier=ref.tier if ref else None,
        platforms=sorted(platforms),
        actual_views=c.views,
        actual_engagement=c.engagement,
        engagement_rate=ratio(c.engagement, c.views, 100),
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


def _post_order(p: PostFigures) -> tuple[bool, datetime, str, str]:
    never = datetime.max.replace(tzinfo=UTC)
    return (p.posted_at is None, p.posted_at or never, p.platform, p.url or "")


def media_urls(payload: SharePayload) -> frozenset[str]:
    """The images a link shows (logo, avatars, thumbnails): all its media route may fetch."""
    urls = {payload.client.logo_url if payload.client else None}
    for i in payload.influencers:
        urls.add(i.avatar_url)
        urls.update(p.thumb_url for p in i.posts)
    return frozenset(u for u in urls if u is not None)


# --- bringing a stored projection forward to now ----------------------------------------------


def as_of_now(payload: SharePayload, numbers_as_of: datetime | None, now: datetime) -> SharePayload:
    """The stored projection seen at `now`: the timeline moves on and the daily series gains the
    days without new samples, by the same rule as the staff dashboard (pulse_contracts.numbers
    extend_to), so both show the same numbers to the unit."""
    return at_moment(forward_to_day(payload, numbers_as_of, now), now)


def forward_to_day(
    payload: SharePayload, numbers_as_of: datetime | None, now: datetime
) -> SharePayload:
    """The part of `as_of_now` that changes only with `now`'s UTC day: the daily series' tail.
    A replica keeps its result for the day (handlers.Projections)."""
    start, end = payload.campaign.start_date, payload.campaign.end_date
    if start is None or end is None or numbers_as_of is None or now <= numbers_as_of:
        return payload
    daily = _extend_daily(list(payload.daily), payload.kpis, start, end, numbers_as_of, now)
    return payload.model_copy(update={"daily": daily})


def at_moment(payload: SharePayload, now: datetime) -> SharePayload:
    """The part of `as_of_now` that moves within a day: the timeline, and when it was read."""
    kpis = payload.kpis
    start, end = payload.campaign.start_date, payload.campaign.end_date
    if start is not None and end is not None:
        kpis = kpis.model_copy(update={"timeline_pct": timeline_pct(start, end, now)})
    return payload.model_copy(update={"kpis": kpis, "generated_at": now})


def _extend_daily(
    daily: list[ShareDay],
    kpis: CampaignKpis,
    start: date,
    end: date,
    as_of: datetime,
    now: datetime,
) -> list[ShareDay]:
    # The same tail the aggregator's reads add, so the client sees what the staff see.
    points = [DailyPoint(**d.model_dump()) for d in daily]
    tail = series_tail(
        points,
        start_date=start,
        end_date=end,
        as_of=as_of,
        now=now,
        views=kpis.actual_views,
        engagement=kpis.actual_engagement,
        posts=kpis.actual_posts,
    )
    return daily + [ShareDay(**p.model_dump()) for p in tail]


def ratio(numerator: int, denominator: int | None, scale: int = 1) -> float | None:
    if not denominator:
        return None
    return round_half_up(Fraction(numerator * scale, denominator))


# --- what may be shown: URLs and colours ------------------------------------------------------


def https_url(url: str | None) -> str | None:
    """Only absolute https URLs reach a client page (no javascript:, data: or relative links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    return url


def cdn_url(url: str | None) -> str | None:
    """A thumbnail on a platform CDN (security.md's allow-list), else None."""
    checked = https_url(url)
    if checked is None:
        return None
    host = (urlsplit(checked).hostname or "").lower().rstrip(".")
    if any(host == s or host.endswith("." + s) for s in CDN_SUFFIXES):
        return checked
    return None


def safe_color(color: str | None) -> str | None:
    return color if color is not None and _COLOR.match(color) else None


# --- links: tokens, expiry, passwords, unlock cookies -----------------------------------------

LinkState = Literal["active", "expired", "revoked"]
MAX_LINK_LIFETIME = timedelta(days=5 * 366)
# argon2id with the library's RFC 9106 low-memory profile (security.md).
_hasher = PasswordHasher()


def new_token() -> tuple[str, bytes]:
    """32 random bytes, URL-safe: the token shown once, and the SHA-256 that is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def link_state(
    *, expires_at: datetime | None, revoked_at: datetime | None, now: datetime
) -> LinkState:
    if revoked_at is not None and revoked_at <= now:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


def expiry_problem(expires_at: datetime | None, now: datetime) -> str | None:
    """Why an expiry cannot be set, or None when it can."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        return "expires_at must carry a timezone (e.g. 2026-12-31T23:59:59Z)"
    if expires_at <= now:
        return "expires_at must be in the future"
    if expires_at - now > MAX_LINK_LIFETIME:
        return "expires_at must be within 5 years (or null: the link never expires)"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def unlock_key(secret: str) -> bytes:
    """The key of unlock cookies, derived so it is never the secret it comes from."""
    return hmac.new(secret.encode(), b"pulse-share-unlock-v1", hashlib.sha256).digest()


def _unlock_mac(key: bytes, link_id: UUID, password_hash: str, expires: int) -> str:
    message = f"{link_id}|{expires}|{password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_unlock(key: bytes, link_id: UUID, password_hash: str, expires: datetime) -> str:
    """A cookie value proving this link was unlocked, valid until `expires`. It names the link
    and its password hash, so it opens nothing else."""
    stamp = int(expires.timestamp())
    return f"{stamp}.{_unlock_mac(key, link_id, password_hash, stamp)}"


def unlocked(
    key: bytes, cookie: str | None, link_id: UUID, password_hash: str, now: datetime
) -> bool:
    if not cookie or len(cookie) > 200:
        return False
    stamp, _, mac = cookie.partition(".")
    if not stamp.isdigit() or int(stamp) <= now.timestamp():
        return False
    expected = _unlock_mac(key, link_id, password_hash, int(stamp))
    return hmac.compare_digest(expected.encode(), mac.encode())


def unlock_expiry(now: datetime, ttl: timedelta, link_expires_at: datetime | None) -> datetime:
    """Short-lived, and never beyond the link's own expiry."""
    until = now + ttl
    return min(until, link_expires_at) if link_expires_at else until


# --- the access log ---------------------------------------------------------------------------


def truncated_address(host: str | None) -> str:
    """The caller's network, not its address: IPv4 /24, IPv6 /48."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "unknown"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def distinct(values: Iterable[UUID]) -> list[UUID]:
    """Sorted unique ids: one lock order for every transaction."""
    return sorted(set(values))
