"""alert.raised / alert.resolved, published by the alerter."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, model_validator

from .envelope import ContractModel, EventData, register
from .values import AlertType, LongText, Severity, ShortText


class AlertFacts(EventData):
    """What every alert event says about the alert itself."""

    alert_id: UUID
    campaign_id: UUID | None = None
    booking_id: UUID | None = None
    post_id: UUID | None = None
    type: AlertType
    severity: Severity
    message: LongText
    debounce_key: ShortText


@register
class AlertRaised(AlertFacts):
    """Raised for the first time, raised again after resolution, or escalated in severity."""

    event_type = "alert.raised"
    raised_at: datetime
    escalated: bool = False


@register
class AlertResolved(AlertFacts):
    event_type = "alert.resolved"
    resolved_at: datetime
    resolved_by: Literal["system", "user"]
    note: LongText | None = None


class AlertThresholds(ContractModel):
    """An organization's alert thresholds; the defaults are design/kpis.md's.

    Carried in `catalog.organization.upserted` settings under "alert_thresholds", edited
    through the gateway. Absent keys take the default, so older organizations need no migration.
    """

    under_kpi_milestones: tuple[float, float, float] = (50, 80, 95)
    engagement_drop_min_views: int = Field(default=1000, ge=0)
    engagement_drop_factor: float = Field(default=0.7, gt=0, le=1)
    deadline_warning_days: float = Field(default=3, gt=0, le=60)
    deadline_critical_days: float = Field(default=1, gt=0, le=60)
    stale_interval_multiple: float = Field(default=2, ge=1, le=20)
    stale_consecutive_failures: int = Field(default=3, ge=1, le=100)
    stale_critical_hours: float = Field(default=24, gt=0, le=24 * 30)
    viral_min_views: int = Field(default=10_000, ge=0)
    viral_median_factor: float = Field(default=5, ge=1)
    viral_median_min_posts: int = Field(default=3, ge=1)
    viral_followers_factor: float = Field(default=2, gt=0)
    sentiment_min_comments: int = Field(default=20, ge=1)
    sentiment_warning_share: float = Field(default=30, gt=0, le=100)
    sentiment_critical_share: float = Field(default=50, gt=0, le=100)
    # forecast_miss (docs/insights.md): raised only while at least this share of the timeline
    # remains, when the forecast's high end is below this share of the commitment.
    forecast_miss_min_remaining_pct: float = Field(default=30, ge=0, le=100)
    forecast_miss_margin_pct: float = Field(default=100, gt=0, le=200)

    @model_validator(mode="after")
    def _ordered(self) -> "AlertThresholds":
        # A milestone or severity step out of order would make escalation run backwards.
        low, mid, high = self.under_kpi_milestones
        if not 0 < low < mid < high <= 100:
            raise ValueError("under_kpi_milestones must rise strictly within (0, 100]")
        if self.deadline_critical_days > self.deadline_warning_days:
            raise ValueError("deadline_critical_days must not exceed deadline_warning_days")
        if self.sentiment_critical_share < self.sentiment_warning_share:
            raise ValueError("sentiment_critical_share must not be below sentiment_warning_share")
        return self

    @classmethod
    def of_settings(cls, settings: dict[str, Any]) -> "AlertThresholds":
        """The thresholds an organization's settings hold, defaults for what they leave out."""
        return cls.model_validate(settings.get(ALERT_THRESHOLDS_KEY) or {})


ALERT_THRESHOLDS_KEY = "alert_thresholds"
