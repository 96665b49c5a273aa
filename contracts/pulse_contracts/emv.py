"""Earned media value (docs/insights.md "Earned media value"): an organization's rates and the
estimate they give per post, booking and campaign. Pure and exact: every figure is a Fraction
until it is rounded to whole cents, once per post.

EMV is what the posts' public results would have cost as paid media, at the organization's
rates. It is an estimate, never a measured figure, and it is money: the share view shows it
only to a link that opted in, and never with a fee, a spend or an ROI.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, Protocol
from uuid import UUID

from pydantic import Field

from .envelope import ContractModel
from .values import CurrencyCode, Platform

if TYPE_CHECKING:
    from .numbers import CampaignNumbers

# Where an organization's own rates live in its settings (beside the alert thresholds), so
# they travel in catalog.organization.upserted to every service that keeps a copy.
EMV_RATES_KEY = "emv_rates"
METRICS: tuple[str, ...] = ("per_1000_views", "per_like", "per_comment", "per_share", "per_save")

# A rate is money per unit in the rates' currency: a number, at least 0 (no NaN, no infinity).
Rate = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]


class PlatformRates(ContractModel):
    per_1000_views: Rate
    per_like: Rate
    per_comment: Rate
    per_share: Rate
    per_save: Rate


def _same_per_engagement(cpm: float, cpe: float) -> PlatformRates:
    return PlatformRates(
        per_1000_views=cpm, per_like=cpe, per_comment=cpe, per_share=cpe, per_save=cpe
    )


# The defaults and their sources are in docs/insights.md ("Default rates"): the paid-media CPM
# and CPE benchmarks the public EMV calculators publish, in US dollars. Every engagement action
# is valued at the platform's cost per engagement; an organization that weighs a comment above
# a like sets its own rates.
DEFAULT_RATES: Mapping[Platform, PlatformRates] = {
    "tiktok": _same_per_engagement(10.0, 0.15),
    "instagram": _same_per_engagement(8.0, 0.25),
    "youtube": _same_per_engagement(20.0, 0.35),
    "facebook": _same_per_engagement(8.0, 0.25),
    "other": _same_per_engagement(0.0, 0.0),  # no benchmark: nothing is valued until set
}
DEFAULT_CURRENCY = "USD"


class EmvRates(ContractModel):
    """An organization's rates per platform, in one currency (Pulse converts nothing)."""

    currency: CurrencyCode = DEFAULT_CURRENCY
    tiktok: PlatformRates = DEFAULT_RATES["tiktok"]
    instagram: PlatformRates = DEFAULT_RATES["instagram"]
    youtube: PlatformRates = DEFAULT_RATES["youtube"]
    facebook: PlatformRates = DEFAULT_RATES["facebook"]
    other: PlatformRates = DEFAULT_RATES["other"]

    def of(self, platform: Platform) -> PlatformRates:
        rates: PlatformRates = getattr(self, platform)
        return rates

    @classmethod
    def merged(cls, overrides: Mapping[str, Any] | None) -> EmvRates:
        """The defaults with an organization's stored overrides (only what it chose), so a
        default changed in a later release reaches every organization that never set one.
        Raises pydantic's ValidationError naming the field (e.g. `tiktok.per_like`)."""
        stored = dict(overrides or {})
        values: dict[str, Any] = {}
        if "currency" in stored:
            values["currency"] = stored["currency"]
        for platform, default in DEFAULT_RATES.items():
            own = stored.get(platform)
            values[platform] = (
                {**default.model_dump(), **own} if isinstance(own, Mapping) else default
            )
        return cls.model_validate(values)

    @classmethod
    def of_settings(cls, settings: Mapping[str, Any] | None) -> EmvRates:
        return cls.merged((settings or {}).get(EMV_RATES_KEY))


class PostCounters(Protocol):
    """A post's latest counters (LatestCounters, share's ShareCounters): None = not exposed."""

    @property
    def views(self) -> int | None: ...
    @property
    def likes(self) -> int | None: ...
    @property
    def comments(self) -> int | None: ...
    @property
    def shares(self) -> int | None: ...
    @property
    def saves(self) -> int | None: ...


def exact(rate: float) -> Fraction:
    """A rate as the decimal it is written as (0.1 is exactly one tenth, not the binary float)."""
    return Fraction(Decimal(repr(rate)))


def post_emv_exact(counters: PostCounters, rates: PlatformRates) -> Fraction:
    """views / 1000 × per_1000_views + likes × per_like + comments × per_comment
    + shares × per_share + saves × per_save; a counter the platform does not expose is 0."""
    return (
        Fraction(counters.views or 0, 1000) * exact(rates.per_1000_views)
        + (counters.likes or 0) * exact(rates.per_like)
        + (counters.comments or 0) * exact(rates.per_comment)
        + (counters.shares or 0) * exact(rates.per_share)
        + (counters.saves or 0) * exact(rates.per_save)
    )


def to_cents(amount: Fraction) -> int:
    """Whole cents, half up (away from zero): 12.345 becomes 1235 cents."""
    units = math.floor(abs(amount) * 100 + Fraction(1, 2))
    return units if amount >= 0 else -units


def post_emv_cents(
    counters: PostCounters | None, platform: Platform, rates: EmvRates
) -> int | None:
    """The post's EMV in cents of the rates' currency; None before its first sample."""
    if counters is None:
        return None
    return to_cents(post_emv_exact(counters, rates.of(platform)))


def roi(emv_cents: int, spend_cents: int | None) -> float | None:
    """EMV ÷ spend, 2 decimals half up; None without a spend (0 or unknown)."""
    if not spend_cents or spend_cents <= 0:
        return None
    return float(Fraction(to_cents(Fraction(emv_cents, spend_cents)), 100))


class PostEmv(ContractModel):
    post_id: UUID
    booking_id: UUID
    emv_cents: int | None  # None: no sample yet


class BookingEmv(ContractModel):
    booking_id: UUID
    emv_cents: int
    roi: float | None  # EMV ÷ the booking's fee; staff only


class CampaignEmv(ContractModel):
    """A campaign's EMV as the gateway serves it (applied at read time with the
    organization's current rates). Always an estimate; `roi` never leaves the staff side."""

    estimate: bool = True
    currency: CurrencyCode
    emv_cents: int
    roi: float | None  # EMV ÷ the campaign's spend; None when the currencies differ
    bookings: list[BookingEmv] = Field(default_factory=list)
    posts: list[PostEmv] = Field(default_factory=list)


def campaign_emv(doc: CampaignNumbers, rates: EmvRates) -> CampaignEmv:
    """Each post's EMV in cents; a booking's is the sum of its posts', the campaign's the sum
    of all its posts' (so the figures on a screen add up to the cent). ROI compares money in
    one currency only: None when the campaign's currency is not the rates'."""
    posts = [
        PostEmv(
            post_id=p.post_id,
            booking_id=p.booking_id,
            emv_cents=post_emv_cents(p.latest, p.platform, rates),
        )
        for p in doc.posts
    ]
    by_booking = sums_by((p.booking_id, p.emv_cents or 0) for p in posts)
    same_currency = doc.campaign.currency == rates.currency
    total = sum(p.emv_cents or 0 for p in posts)
    return CampaignEmv(
        currency=rates.currency,
        emv_cents=total,
        roi=roi(total, doc.campaign.spend_cents) if same_currency else None,
        bookings=[
            BookingEmv(
                booking_id=b.booking_id,
                emv_cents=by_booking.get(b.booking_id, 0),
                roi=roi(by_booking.get(b.booking_id, 0), b.fee_cents) if same_currency else None,
            )
            for b in doc.bookings
        ],
        posts=posts,
    )


def sums_by(pairs: Iterable[tuple[UUID, int]]) -> dict[UUID, int]:
    totals: dict[UUID, int] = {}
    for key, cents in pairs:
        totals[key] = totals.get(key, 0) + cents
    return totals
