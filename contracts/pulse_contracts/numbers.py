"""A campaign's whole number state (design/kpis.md): what `kpi.updated` carries and reads return.

Percentages and rates are rounded to 2 decimals; money is integer cents plus the currency.
The few rules every reader of the document needs to read it at a later moment (rounding,
the engagement rate, timeline_pct, the daily series' tail, the creators' grouping and order)
live here once, beside the document they apply to; that is why this module runs a little over
the usual ~450 lines rather than scattering the document's own rules.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Protocol, TypeVar
from uuid import UUID

from pydantic import Field, model_validator

from .emv import CampaignEmv
from .envelope import ContractModel, EventData, register
from .forecast import (
    BookingPlan,
    DeliveryForecast,
    campaign_projection,
    document_forecast,
    forecast_bookings,
    recent_days,
)
from .posts import Counters
from .values import CampaignStatus, CurrencyCode, Platform, Url


class LatestCounters(Counters):
    """The post's latest sample (greatest observed_at; ties: greater views)."""

    observed_at: datetime
    engagement: int
    estimated: bool = False


class PostNumbers(ContractModel):
    post_id: UUID
    booking_id: UUID
    influencer_id: UUID | None = None
    platform: Platform
    url: Url | None = None
    posted_at: datetime | None = None
    caption: str | None = None
    thumb_url: Url | None = None
    latest: LatestCounters | None = None


class DeliveryKpis(ContractModel):
    """Commitments against actuals (design/kpis.md), with no money in them: the part of the
    KPIs every reader may show, a client included."""

    committed_views: int | None = None
    committed_engagement: int | None = None
    committed_posts: int | None = None
    actual_views: int = 0
    actual_engagement: int = 0
    actual_posts: int = 0
    views_pct: float | None = None
    engagement_pct: float | None = None
    posts_pct: float | None = None
    kpi_pct: float | None = None
    engagement_rate: float | None = None


class KpiFigures(DeliveryKpis):
    """A booking's or campaign's KPIs for the agency: delivery plus what it cost."""

    cpm: float | None = None
    cpe: float | None = None


class ClientKpis(DeliveryKpis):
    """The campaign's KPIs as a client sees them (share links, client reports): delivery and
    how far the timeline has run, never money. Share's allow-list test pins these fields, so a
    field added here is a decision that test makes someone take, not an accident."""

    timeline_pct: float | None = None


class DailyClose(ContractModel):
    """Cumulative sums at the end of one UTC day, as the daily series defines them."""

    date: date
    views_cum: int
    engagement_cum: int


class BookingNumbers(KpiFigures):
    booking_id: UUID
    influencer_id: UUID | None = None
    fee_cents: int = 0
    min_engagement_rate: float | None = None
    # The booking's own close of the day before as_of's UTC date (the daily series over the
    # booking's tracked posts), so a reader can compare today against yesterday without the
    # samples; None when that day is outside the campaign's series (or the dates are unknown).
    previous_close: DailyClose | None = None
    forecast: DeliveryForecast | None = None
    # The booking's own daily series over the last forecast.RECENT_DAYS days to as_of's date: its
    # forecast reads, so a reader can bring the forecast forward (extend_to) without the samples.
    # Empty when the campaign is unknown or its end date has passed (the forecast is final).
    recent: list["DailyPoint"] = Field(default_factory=list)


class CampaignFigures(KpiFigures):
    campaign_id: UUID
    client_id: UUID | None = None
    name: str | None = None
    status: CampaignStatus | None = None
    start_date: date | None = None
    end_date: date | None = None
    currency: CurrencyCode | None = None
    budget_cents: int | None = None
    spend_cents: int = 0
    timeline_pct: float | None = None
    forecast: DeliveryForecast | None = None


class DailyPoint(ContractModel):
    """One day of the daily series (design/kpis.md). No money: clients see it as it is."""

    date: date
    views_cum: int
    views_delta: int
    engagement_cum: int
    engagement_delta: int
    posts_live: int


BookingNumbers.model_rebuild()  # `recent` names DailyPoint, defined after it


class PlatformSplit(ContractModel):
    """Σ latest views and engagement per platform. No money: clients see it as it is."""

    platform: Platform
    views: int
    engagement: int


class CreatorNumbers(ContractModel):
    """One creator's part of the campaign: the actuals of their bookings, summed.

    The one rule every reader shows (the client's view, the staff report, the alerter):
    a creator sums exactly the bookings the document carries, so a deleted booking counts
    nowhere, as in every other total; a booking whose creator is not known yet is an entry of
    its own (influencer_id None). Posts are not repeated here: a creator's posts are the
    document's posts of `booking_ids`, shown in `post_display_order`.
    """

    influencer_id: UUID | None = None
    booking_ids: list[UUID]
    actual_views: int = 0
    actual_engagement: int = 0
    actual_posts: int = 0
    engagement_rate: float | None = None


@register
class CampaignNumbers(EventData):
    """The `kpi.updated` document: complete, so consumers need nothing else to show numbers."""

    event_type = "kpi.updated"
    campaign: CampaignFigures
    bookings: list[BookingNumbers] = Field(default_factory=list)
    posts: list[PostNumbers] = Field(default_factory=list)
    daily: list[DailyPoint] = Field(default_factory=list)
    platforms: list[PlatformSplit] = Field(default_factory=list)
    # Filled by the aggregator; a document stored before creators were published gets them
    # from its own bookings by the same rule when read, so no reader regroups bookings itself.
    creators: list[CreatorNumbers] = Field(default_factory=list)
    as_of: datetime
    # Earned media value (emv.py): never in kpi.updated; the gateway adds it when it serves a
    # document, with the organization's rates of that moment (a rate change shows at once).
    emv: CampaignEmv | None = None

    @model_validator(mode="after")
    def _creators_of_older_documents(self) -> "CampaignNumbers":
        if self.bookings and not self.creators:
            object.__setattr__(self, "creators", creator_figures(self.bookings))
        return self


SERIES_TAIL = timedelta(days=7)  # the daily series runs to end_date + 7 days
_ONE_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)


def round_half_up(value: Fraction) -> float:
    """2 decimals, half up (away from zero) on the exact rational: 12.345 becomes 12.35."""
    return _hundredths_half_up(value.numerator, value.denominator)


def _hundredths_half_up(numerator: int, denominator: int) -> float:
    """numerator / denominator (denominator > 0) to 2 decimals, half up, in integers:
    ⌊|n| · 100 / d + 1/2⌋ hundredths. A recompute rounds thousands of figures, and Fraction's
    arithmetic (a gcd per step) was a tenth of its time. int / int is correctly rounded, as
    float(Fraction) is."""
    units = (200 * abs(numerator) + denominator) // (2 * denominator)
    return (units if numerator >= 0 else -units) / 100


def engagement_rate(engagement: int, views: int) -> float | None:
    """100 × engagement / views, 2 decimals half up (design/kpis.md); None without views.

    The one definition: the aggregator's bookings and campaign, the creators, the alerter's
    yesterday close and the hashtag rollup all read it from here.
    """
    if not views:
        return None
    sign = 1 if views > 0 else -1  # never negative in practice; the old Fraction path allowed it
    return _hundredths_half_up(sign * 100 * engagement, sign * views)


class BookingTotals(Protocol):
    """What grouping by creator needs of a booking (the document's, or share's redacted copy)."""

    @property
    def booking_id(self) -> UUID: ...
    @property
    def influencer_id(self) -> UUID | None: ...
    @property
    def actual_views(self) -> int: ...
    @property
    def actual_engagement(self) -> int: ...
    @property
    def actual_posts(self) -> int: ...


def creator_figures(bookings: Iterable[BookingTotals]) -> list[CreatorNumbers]:
    """One entry per creator over the given bookings (CreatorNumbers says which), in the order
    creators are shown: most views first; ties by influencer id here, by name where the
    reader knows names (`by_views_then_name`)."""
    grouped: dict[UUID, list[BookingTotals]] = {}
    for b in bookings:
        grouped.setdefault(b.influencer_id or b.booking_id, []).append(b)
    creators = []
    for own in grouped.values():
        views = sum(b.actual_views for b in own)
        engagement = sum(b.actual_engagement for b in own)
        creators.append(
            CreatorNumbers(
                influencer_id=own[0].influencer_id,
                booking_ids=sorted(b.booking_id for b in own),
                actual_views=views,
                actual_engagement=engagement,
                actual_posts=sum(b.actual_posts for b in own),
                engagement_rate=engagement_rate(engagement, views),
            )
        )
    creators.sort(key=lambda c: (-c.actual_views, str(c.influencer_id or c.booking_ids[0])))
    return creators


def by_views_then_name(views: int, name: str) -> tuple[int, str]:
    """The sort key of creators on every screen and report: most views first, then by name."""
    return (-views, name.casefold())


def post_display_order(
    posted_at: datetime | None, platform: str, url: str | None
) -> tuple[bool, datetime, str, str]:
    """The sort key of a creator's posts wherever they are listed: oldest first, posts not yet
    live last, then by platform and URL so equal times keep one order."""
    never = datetime.max.replace(tzinfo=UTC)
    return (posted_at is None, posted_at or never, platform, url or "")


class CreatorPost(Protocol):
    """What listing a creator's posts needs of a post (the document's, or share's redacted)."""

    @property
    def booking_id(self) -> UUID: ...
    @property
    def posted_at(self) -> datetime | None: ...
    @property
    def platform(self) -> str: ...
    @property
    def url(self) -> str | None: ...


P = TypeVar("P", bound=CreatorPost)


def creators_with_posts(
    creators: Iterable[CreatorNumbers], posts: Iterable[P]
) -> list[tuple[CreatorNumbers, list[P]]]:
    """Each creator with their posts (those of their bookings), in `post_display_order`: what
    every reader that lists creators shows under each."""
    of_booking: dict[UUID, list[P]] = {}
    for p in posts:
        of_booking.setdefault(p.booking_id, []).append(p)
    return [
        (
            c,
            sorted(
                (p for b in c.booking_ids for p in of_booking.get(b, ())),
                key=lambda p: post_display_order(p.posted_at, p.platform, p.url),
            ),
        )
        for c in creators
    ]


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def timeline_pct(start_date: date, end_date: date, now: datetime) -> float | None:
    """100 × clamp((now − start) / (end − start), 0, 1), 2 decimals half up.

    start is start_date 00:00 UTC and end is the day after end_date 00:00 UTC (the end date is
    included). None when end_date is before start_date: there is no timeline to measure.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    start = _midnight(start_date)
    total_us = (_midnight(end_date + _ONE_DAY) - start) // _MICROSECOND
    if total_us <= 0:
        return None
    # Integer microseconds keep the ratio exact, so the .xx5 cases round half up as written.
    elapsed_us = min(max((now - start) // _MICROSECOND, 0), total_us)
    return round_half_up(Fraction(elapsed_us * 100, total_us))


def series_tail(
    daily: Sequence[DailyPoint],
    *,
    start_date: date,
    end_date: date,
    as_of: datetime,
    now: datetime,
    views: int,
    engagement: int,
    posts: int,
) -> list[DailyPoint]:
    """The days after a document's as_of up to min(today, end_date + 7), without new samples.

    Samples more than 5 minutes ahead are refused, so every later day holds each post's latest:
    the campaign totals (`views`, `engagement`, `posts`).
    """
    first = max(start_date, as_of.astimezone(UTC).date() + _ONE_DAY)
    if daily:
        first = max(first, daily[-1].date + _ONE_DAY)
    last = min(now.astimezone(UTC).date(), end_date + SERIES_TAIL)
    views_cum = daily[-1].views_cum if daily else 0
    engagement_cum = daily[-1].engagement_cum if daily else 0
    tail: list[DailyPoint] = []
    day = first
    while day <= last:
        tail.append(
            DailyPoint(
                date=day,
                views_cum=views,
                views_delta=views - views_cum,
                engagement_cum=engagement,
                engagement_delta=engagement - engagement_cum,
                posts_live=posts,
            )
        )
        views_cum, engagement_cum = views, engagement
        day += _ONE_DAY
    return tail


def previous_close_day(
    start_date: date | None, end_date: date | None, now: datetime
) -> date | None:
    """The day before now's UTC date, when the campaign's daily series has that day."""
    if start_date is None or end_date is None:
        return None
    day = now.astimezone(UTC).date() - _ONE_DAY
    return day if start_date <= day <= end_date + SERIES_TAIL else None


def extend_to(doc: CampaignNumbers, now: datetime) -> CampaignNumbers:
    """A document computed at `doc.as_of` brought forward to a later `now` without new samples.

    Samples more than 5 minutes ahead of the clock are refused, so every stored sample lies
    before the end of the day after as_of: every day after as_of's date sums each post's
    latest, which the campaign totals already are. A `now` not after as_of changes nothing.
    """
    if now <= doc.as_of:
        return doc
    figures = doc.campaign
    if figures.start_date is None or figures.end_date is None:
        return doc.model_copy(update={"as_of": now})
    daily = list(doc.daily) + series_tail(
        doc.daily,
        start_date=figures.start_date,
        end_date=figures.end_date,
        as_of=doc.as_of,
        now=now,
        views=figures.actual_views,
        engagement=figures.actual_engagement,
        posts=figures.actual_posts,
    )
    timeline = timeline_pct(figures.start_date, figures.end_date, now)
    figures, bookings = _forecast_forward(doc, now)
    close_day = previous_close_day(figures.start_date, figures.end_date, now)
    held = doc.bookings[0].previous_close if doc.bookings else None
    if close_day != (held.date if held is not None else None):
        # A later day's close: the booking's current actuals (no sample is newer than as_of's
        # day), or nothing outside the series.
        bookings = [
            b.model_copy(
                update={
                    "previous_close": None
                    if close_day is None
                    else DailyClose(
                        date=close_day,
                        views_cum=b.actual_views,
                        engagement_cum=b.actual_engagement,
                    )
                }
            )
            for b in bookings
        ]
    return doc.model_copy(
        update={
            "campaign": figures.model_copy(update={"timeline_pct": timeline}),
            "bookings": bookings,
            "daily": daily,
            "as_of": now,
        }
    )


def with_forecast(
    bookings: Sequence[BookingNumbers],
    figures: CampaignFigures,
    series: Mapping[UUID, Sequence[DailyPoint]],
    *,
    today: date,
) -> tuple[list[BookingNumbers], CampaignFigures]:
    """The bookings and campaign with their delivery forecasts and recent days (forecast.py).

    `series[booking_id]` is the booking's own daily series, at least over its recent days (and
    the end date once that has passed). Nothing changes without the campaign's dates.
    """
    start_date, end_date = figures.start_date, figures.end_date
    if start_date is None or end_date is None:
        return list(bookings), figures
    plans = [
        BookingPlan(
            booking_id=b.booking_id,
            series=series.get(b.booking_id, ()),
            views=b.actual_views,
            engagement=b.actual_engagement,
            posts=b.actual_posts,
            committed_views=b.committed_views,
            committed_engagement=b.committed_engagement,
            committed_posts=b.committed_posts,
        )
        for b in bookings
    ]
    projections = forecast_bookings(plans, start_date=start_date, end_date=end_date, today=today)
    updated = [
        b.model_copy(
            update={
                "forecast": document_forecast(projections.get(b.booking_id)),
                # The series' own points when they are DailyPoints already (no copy to make).
                "recent": [
                    p
                    if isinstance(p, DailyPoint)
                    else DailyPoint.model_validate(p, from_attributes=True)
                    for p in recent_days(
                        series.get(b.booking_id, ()), end_date=end_date, today=today
                    )
                ],
            }
        )
        for b in bookings
    ]
    campaign = document_forecast(campaign_projection(projections))
    return updated, figures.model_copy(update={"forecast": campaign})


def _forecast_forward(
    doc: CampaignNumbers, now: datetime
) -> tuple[CampaignFigures, list[BookingNumbers]]:
    """The forecasts of a later day without new samples: each booking's recent days go on flat
    at its actuals (nothing newer than as_of exists), and the forecast is taken again."""
    figures, today = doc.campaign, now.astimezone(UTC).date()
    held = doc.as_of.astimezone(UTC).date()
    if today == held or figures.end_date is None or held > figures.end_date:
        return figures, list(doc.bookings)  # the same day, or final already: nothing moves
    last = min(today, figures.end_date + SERIES_TAIL)
    series: dict[UUID, list[DailyPoint]] = {}
    for b in doc.bookings:
        days = list(b.recent)
        day = max(held + _ONE_DAY, figures.start_date or held)
        while day <= last:
            days.append(
                DailyPoint(
                    date=day,
                    views_cum=b.actual_views,
                    views_delta=b.actual_views - (days[-1].views_cum if days else 0),
                    engagement_cum=b.actual_engagement,
                    engagement_delta=b.actual_engagement - (days[-1].engagement_cum if days else 0),
                    posts_live=b.actual_posts,
                )
            )
            day += _ONE_DAY
        series[b.booking_id] = days
    bookings, figures = with_forecast(doc.bookings, figures, series, today=today)
    return figures, bookings
