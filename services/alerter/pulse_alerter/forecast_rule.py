"""forecast_miss (docs/insights.md): the delivery forecast's high end below the commitment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from pulse_contracts.numbers import KpiFigures
from pulse_contracts.values import AlertScope

from .context import CampaignContext, creator_label
from .domain import ALERTABLE_STATUS, Condition, campaign_label, campaign_timeline_pct
from .messages import Forecast


def forecast_miss_key(scope: AlertScope, scope_id: UUID) -> str:
    return f"forecast_miss:{scope}:{scope_id}"


def _exact(value: float) -> Fraction:
    return Fraction(Decimal(repr(value)))


def _misses(forecast: Forecast | None, figures: KpiFigures, margin_pct: float) -> list[str]:
    """The committed metrics the forecast's high end cannot reach, as the message names them."""
    if forecast is None or forecast.status != "projected":
        return []
    reasons: list[str] = []
    for metric, high, committed in (
        ("views", forecast.views_high, figures.committed_views),
        ("engagement", forecast.engagement_high, figures.committed_engagement),
    ):
        if high is None or not committed or committed <= 0:
            continue
        if Fraction(high) * 100 < committed * _exact(margin_pct):
            reasons.append(f"at most {high:,} {metric} of {committed:,} committed")
    return reasons


def _forecast_miss(
    *,
    scope: AlertScope,
    scope_id: UUID,
    booking_id: UUID | None,
    forecast: Forecast | None,
    figures: KpiFigures,
    subject: str,
    ctx: CampaignContext,
    now: datetime,
) -> Condition:
    t = ctx.thresholds
    alertable = ctx.doc.campaign.status == ALERTABLE_STATUS
    reasons = _misses(forecast, figures, t.forecast_miss_margin_pct) if alertable else []
    timeline = campaign_timeline_pct(ctx.doc, now)
    remaining = None if timeline is None else 100 - timeline
    # Raised only while there is time to act; once open it holds until the forecast recovers.
    may_raise = remaining is not None and remaining >= t.forecast_miss_min_remaining_pct
    return Condition(
        debounce_key=forecast_miss_key(scope, scope_id),
        type="forecast_miss",
        scope=scope,
        campaign_id=ctx.doc.campaign.campaign_id,
        booking_id=booking_id,
        post_id=None,
        holds=bool(reasons),
        severity="warning" if reasons else None,
        message=(
            f"{subject} is forecast to land short by the end date: "
            + ("; ".join(reasons) if reasons else "the forecast reaches its commitments")
        ),
        may_raise=may_raise,
    )


def evaluate_forecast_miss(ctx: CampaignContext, now: datetime) -> list[Condition]:
    """The campaign's key and each booking's, holding or not."""
    doc = ctx.doc
    conditions = [
        _forecast_miss(
            scope="campaign",
            scope_id=doc.campaign.campaign_id,
            booking_id=None,
            forecast=doc.campaign.forecast,
            figures=doc.campaign,
            subject=f"Campaign {campaign_label(doc)}",
            ctx=ctx,
            now=now,
        )
    ]
    for booking in doc.bookings:
        conditions.append(
            _forecast_miss(
                scope="booking",
                scope_id=booking.booking_id,
                booking_id=booking.booking_id,
                forecast=booking.forecast,
                figures=booking,
                subject=f"{creator_label(booking.influencer_id, ctx)} in {campaign_label(doc)}",
                ctx=ctx,
                now=now,
            )
        )
    return conditions
