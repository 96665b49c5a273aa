"""Earned media value (docs/insights.md "Earned media value"): an organization's rates and the
estimate they give per post, booking and campaign. Pure and exact: every figure is a Fraction
until it is rounded to whole cents, once per post.

EMV is what the posts' public results would have cost as paid media, at the organization's
rates. It is an estimate, never a measured figure, and it is money: the share view shows it
only to a link that opted in, and never with a fee, a spend or an ROI.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
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


def exact(rate: float) -> Decimal:
    """A rate as the decimal it is written as (0.1 is exactly one tenth, not the binary float)."""
    return Decimal(repr(rate))


@lru_cache(maxsize=256)
def _scaled(rates: PlatformRates) -> tuple[int, int, int, int, int, int]:
    """The five rates as integers over one power of ten S (so the sum stays in integers, exact,
    and a read valuing a thousand posts does no rational arithmetic): (S, R_views, R_like, …)."""
    decimals = [exact(getattr(rates, m)) for m in METRICS]
    places = max(max(0, -int(d.as_tuple().exponent)) for d in decimals)
    scale = 10**places
    return (scale, *(int(d * scale) for d in decimals))


def to_cents(amount: Fraction) -> int:
    """Whole cents, half up (away from zero): 12.345 becomes 1235 cents."""
    units = math.floor(abs(amount) * 100 + Fraction(1, 2))
    return units if amount >= 0 else -units


def post_emv_cents(
    counters: PostCounters | None, platform: Platform, rates: EmvRates
) -> int | None:
    """The post's EMV in cents of the rates' currency, half up; None before its first sample.
    In integers: with the rates as R / S, cents = ⌊(2 × 100 × T + 1000 × S) / (2000 × S)⌋ where
    T = views × R_views + 1000 × (likes × R_like + …) ≥ 0 (the exact EMV × 1000 × S)."""
    if counters is None:
        return None
    scale, views, like, comment, share, save = _scaled(rates.of(platform))
    thousandths = (counters.views or 0) * views + 1000 * (
        (counters.likes or 0) * like
        + (counters.comments or 0) * comment
        + (counters.shares or 0) * share
        + (counters.saves or 0) * save
    )
    return (200 * thousandths + 1000 * scale) // (2000 * scale)


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


Id = UUID | str  # a document's ids, parsed or as its JSON carries them


@dataclass(frozen=True, slots=True)
class ValuedPost:
    """One post to value: what `emv_of` reads (a document's post, or its JSON on a read path)."""

    post_id: Id
    booking_id: Id
    platform: Platform
    counters: PostCounters | None


@dataclass(frozen=True, slots=True)
class EmvFigures:
    """emv_of's answer, plain (CampaignEmv is its shape on the wire)."""

    currency: str
    emv_cents: int
    roi: float | None
    bookings: tuple[tuple[Id, int, float | None], ...]  # booking id, EMV cents, ROI
    posts: tuple[tuple[Id, Id, int | None], ...]  # post id, booking id, EMV cents

    def as_json(self) -> dict[str, Any]:
        """CampaignEmv's JSON, without building a model per post on a read path."""
        return {
            "estimate": True,
            "currency": self.currency,
            "emv_cents": self.emv_cents,
            "roi": self.roi,
            "bookings": [
                {"booking_id": str(b), "emv_cents": cents, "roi": r}
                for b, cents, r in self.bookings
            ],
            "posts": [
                {"post_id": str(p), "booking_id": str(b), "emv_cents": cents}
                for p, b, cents in self.posts
            ],
        }


def campaign_emv(doc: CampaignNumbers, rates: EmvRates) -> CampaignEmv:
    """The document's EMV (emv_of over its posts and bookings)."""
    figures = emv_of(
        [ValuedPost(p.post_id, p.booking_id, p.platform, p.latest) for p in doc.posts],
        [(b.booking_id, b.fee_cents) for b in doc.bookings],
        currency=doc.campaign.currency,
        spend_cents=doc.campaign.spend_cents,
        rates=rates,
    )
    return CampaignEmv.model_validate(figures.as_json())


def emv_of(
    posts: Sequence[ValuedPost],
    bookings: Sequence[tuple[Id, int]],
    *,
    currency: str | None,
    spend_cents: int,
    rates: EmvRates,
) -> EmvFigures:
    """Each post's EMV in cents; a booking's is the sum of its posts', the campaign's the sum
    of all its posts' (so the figures on a screen add up to the cent). ROI compares money in
    one currency only: None when the campaign's currency (`currency`) is not the rates'."""
    valued = [(p, post_emv_cents(p.counters, p.platform, rates)) for p in posts]
    by_booking = sums_by((p.booking_id, cents or 0) for p, cents in valued)
    same_currency = currency == rates.currency
    total = sum(cents or 0 for _, cents in valued)
    return EmvFigures(
        currency=rates.currency,
        emv_cents=total,
        roi=roi(total, spend_cents) if same_currency else None,
        bookings=tuple(
            (
                booking_id,
                by_booking.get(booking_id, 0),
                roi(by_booking.get(booking_id, 0), fee) if same_currency else None,
            )
            for booking_id, fee in bookings
        ),
        posts=tuple((p.post_id, p.booking_id, cents) for p, cents in valued),
    )


def sums_by(pairs: Iterable[tuple[Id, int]]) -> dict[Id, int]:
    totals: dict[Id, int] = {}
    for key, cents in pairs:
        totals[key] = totals.get(key, 0) + cents
    return totals
