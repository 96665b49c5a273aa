"""alert.raised / alert.resolved, published by the alerter."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from .envelope import EventData, register
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
