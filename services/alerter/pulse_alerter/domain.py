"""Alert rules and their debounce life cycle (design/kpis.md), pure functions of data and `now`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal
from uuid import UUID

from pulse_contracts.alerts import AlertThresholds
from pulse_contracts.numbers import KpiFigures, timeline_pct
from pulse_contracts.values import SEVERITY_RANK, AlertScope, AlertType, CampaignStatus, Severity

from .messages import Numbers

Milestones = tuple[tuple[float, Severity], ...]
# Highest first, so the first milestone the timeline has reached is the current one.
MILESTONES: Milestones = ((95, "critical"), (80, "warning"), (50, "info"))
DEFAULT_THRESHOLDS = AlertThresholds()

# Alerts exist to act while there is still time: a draft, paused or ended campaign has none.
ALERTABLE_STATUS: CampaignStatus = "live"

# After a resolution the same key stays quiet this long, unless it comes back more severe.
RESOLVE_AFTER_RESOLUTION_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Condition:
    """One debounce key evaluated now; `severity` is set exactly when the condition holds."""

    debounce_key: str
    type: AlertType
    scope: AlertScope
    campaign_id: UUID
    booking_id: UUID | None
    post_id: UUID | None
    holds: bool
    severity: Severity | None
    message: str
    # False: the condition holds but may not open an alert now (forecast_miss once too little
    # of the timeline remains); an open one still holds on until the condition ends.
    may_raise: bool = True

    def __post_init__(self) -> None:
        # A holding condition without a severity could not be raised; catch it where it is built.
        if self.holds != (self.severity is not None):
            raise ValueError("severity must be set exactly when the condition holds")


@dataclass(frozen=True)
class AlertState:
    """The newest alert row for a debounce key."""

    id: UUID
    status: Literal["open", "resolved"]
    severity: Severity
    resolved_at: datetime | None

    def __post_init__(self) -> None:
        # The 24 h window is measured from resolved_at, so a resolved row without it is corrupt.
        if (self.status == "resolved") != (self.resolved_at is not None):
            raise ValueError("resolved_at must be set exactly when the alert is resolved")


class Action(Enum):
    RAISE = "raise"
    ESCALATE = "escalate"
    TOUCH = "touch"
    RESOLVE = "resolve"
    NONE = "none"


def campaign_timeline_pct(doc: Numbers, now: datetime) -> float | None:
    """The campaign's timeline_pct at `now`, rounded half up to 2 decimals; None without dates."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    start_date, end_date = doc.campaign.start_date, doc.campaign.end_date
    if start_date is None or end_date is None:
        return None
    return timeline_pct(start_date, end_date, now)


def milestones_of(thresholds: AlertThresholds) -> Milestones:
    """An organization's three milestones, highest first, with info/warning/critical."""
    low, mid, high = thresholds.under_kpi_milestones
    return ((high, "critical"), (mid, "warning"), (low, "info"))


def current_milestone(
    timeline_pct: float | None, milestones: Milestones = MILESTONES
) -> tuple[float, Severity] | None:
    """The highest milestone the timeline has reached, with its severity; None before 50."""
    if timeline_pct is None:
        return None
    for milestone, severity in milestones:
        if timeline_pct >= milestone:
            return milestone, severity
    return None


def under_kpi_key(scope: AlertScope, scope_id: UUID, milestone: float) -> str:
    # 50.0 keys as "50", the documented `under_kpi:{scope}:{id}:{m}`; 62.5 stays "62.5".
    m = int(milestone) if float(milestone).is_integer() else milestone
    return f"under_kpi:{scope}:{scope_id}:{m}"


def campaign_label(doc: Numbers) -> str:
    """The campaign as the agency names it: "Summer launch" in quotes, its id when unnamed."""
    campaign = doc.campaign
    return f'"{campaign.name}"' if campaign.name else str(campaign.campaign_id)


def evaluate_under_kpi(
    doc: Numbers,
    now: datetime,
    *,
    thresholds: AlertThresholds = DEFAULT_THRESHOLDS,
    influencers: Mapping[UUID, str] | None = None,
) -> list[Condition]:
    """Every under_kpi key of the campaign and its bookings; at most one per scope holds.

    `influencers` maps influencer ids to display names, so messages name the creator.
    """
    timeline_pct = campaign_timeline_pct(doc, now)
    milestones = milestones_of(thresholds)
    # Past milestones are returned too (holds=False) so the caller resolves their open alerts.
    reached = (
        current_milestone(timeline_pct, milestones)
        if doc.campaign.status == ALERTABLE_STATUS
        else None
    )
    campaign = doc.campaign
    name = campaign_label(doc)
    names = influencers or {}
    conditions = _under_kpi_conditions(
        scope="campaign",
        scope_id=campaign.campaign_id,
        campaign_id=campaign.campaign_id,
        booking_id=None,
        figures=campaign,
        reached=reached,
        subject=f"Campaign {name}",
        timeline_pct=timeline_pct,
        milestones=milestones,
    )
    for booking in doc.bookings:
        known = names.get(booking.influencer_id) if booking.influencer_id else None
        if known is not None:
            subject = f"{known}'s booking in {name}"
        elif booking.influencer_id is not None:
            subject = f"Booking for influencer {booking.influencer_id}"
        else:
            subject = f"Booking {booking.booking_id}"
        conditions += _under_kpi_conditions(
            scope="booking",
            scope_id=booking.booking_id,
            campaign_id=campaign.campaign_id,
            booking_id=booking.booking_id,
            figures=booking,
            reached=reached,
            subject=subject,
            timeline_pct=timeline_pct,
            milestones=milestones,
        )
    return conditions


def decide(condition: Condition, current: AlertState | None, now: datetime) -> Action:
    """What to do with the newest alert for the condition's key, per the debounce rules."""
    if not condition.holds:
        if current is not None and current.status == "open":
            return Action.RESOLVE
        return Action.NONE
    assert condition.severity is not None  # guaranteed by Condition.__post_init__
    if not condition.may_raise and (current is None or current.status != "open"):
        return Action.NONE
    if current is None:
        return Action.RAISE
    more_severe = SEVERITY_RANK[condition.severity] > SEVERITY_RANK[current.severity]
    if current.status == "open":
        return Action.ESCALATE if more_severe else Action.TOUCH
    assert current.resolved_at is not None  # guaranteed by AlertState.__post_init__
    # A worse situation must not wait out the quiet period that follows a resolution.
    if more_severe or now - current.resolved_at >= RESOLVE_AFTER_RESOLUTION_WINDOW:
        return Action.RAISE
    return Action.NONE


def _under_kpi_conditions(
    *,
    scope: AlertScope,
    scope_id: UUID,
    campaign_id: UUID,
    booking_id: UUID | None,
    figures: KpiFigures,
    reached: tuple[float, Severity] | None,
    subject: str,
    timeline_pct: float | None,
    milestones: Milestones,
) -> list[Condition]:
    kpi_pct = figures.kpi_pct
    # Null kpi_pct means nothing was committed: there is no shortfall to warn about.
    holding = reached if reached and kpi_pct is not None and kpi_pct < reached[0] else None
    message = (
        f"{subject} is at {pct_text(kpi_pct)} of its KPI"
        f" with {pct_text(timeline_pct)} of the timeline gone"
    )
    return [
        Condition(
            debounce_key=under_kpi_key(scope, scope_id, milestone),
            type="under_kpi",
            scope=scope,
            campaign_id=campaign_id,
            booking_id=booking_id,
            post_id=None,
            holds=holding == (milestone, severity),
            severity=severity if holding == (milestone, severity) else None,
            message=message,
        )
        for milestone, severity in milestones
    ]


def pct_text(value: float | None) -> str:
    # Shown as the agency reads it: "38.2%", "81.0%", "49.99%"; never a made-up 0 for null.
    if value is None:
        return "n/a"
    text = f"{value:.2f}".rstrip("0")
    return f"{text}0%" if text.endswith(".") else f"{text}%"
