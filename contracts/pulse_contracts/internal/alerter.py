"""The alerter's internal routes: alerts (list, read with history, resolve one or many) and
notification channels with their delivery log."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from pulse_contracts.values import AlertScope, AlertType, Severity

from .base import Answer, Request

MAX_BULK_RESOLVE = 200
ChannelKind = Literal["webhook", "email"]
WebhookFormat = Literal["json", "slack"]


class Alert(Answer):
    id: UUID
    campaign_id: UUID | None
    booking_id: UUID | None
    post_id: UUID | None
    type: AlertType
    scope: AlertScope
    severity: Severity
    message: str
    debounce_key: str
    status: Literal["open", "resolved"]
    raised_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    resolved_by: Literal["system", "user"] | None
    resolved_by_user: UUID | None
    resolution_note: str | None


class AlertEvent(Answer):
    """One line of an alert's history: raised, escalated or resolved."""

    at: datetime
    action: Literal["raised", "escalated", "resolved"]
    severity: Severity
    actor: str
    note: str | None


class AlertWithHistory(Alert):
    history: list[AlertEvent]


class AlertPage(Answer):
    """Newest first; `next_cursor` continues the list."""

    items: list[Alert]
    next_cursor: str | None


class ResolveRequest(Request):
    note: str | None = Field(default=None, max_length=2000)
    user_id: UUID | None = None


class BulkResolveRequest(Request):
    ids: list[UUID] = Field(min_length=1, max_length=MAX_BULK_RESOLVE)
    note: str | None = Field(default=None, max_length=2000)
    user_id: UUID | None = None


class BulkResolved(Answer):
    id: UUID
    result: Literal["resolved", "already_resolved"]
    alert: AlertWithHistory


class BulkResolveAnswer(Answer):
    items: list[BulkResolved]


class ChannelIn(Request):
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    target: str = Field(
        min_length=3, max_length=2048, description="https:// webhook URL, or an email address"
    )
    format: WebhookFormat = Field(default="json", description="webhooks: json or slack")
    min_severity: Severity = "warning"
    enabled: bool = True


class ChannelPatch(Request):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    target: str | None = Field(default=None, min_length=3, max_length=2048)
    format: WebhookFormat | None = None
    min_severity: Severity | None = None
    enabled: bool | None = None


class Channel(Answer):
    """A channel as listed: a webhook URL is masked (it is often a credential)."""

    id: UUID
    kind: ChannelKind
    name: str
    target: str
    format: WebhookFormat
    min_severity: Severity
    enabled: bool
    created_at: datetime
    updated_at: datetime


class CreatedChannel(Channel):
    """The create answer: the whole target and the webhook's signing secret, shown only now."""

    signing_secret: str | None = Field(
        description="webhooks: key of X-Pulse-Signature (HMAC-SHA256 over '<t>.<body>'); "
        "shown only now"
    )


class ChannelPage(Answer):
    items: list[Channel]
    next_cursor: str | None


class Delivery(Answer):
    id: UUID
    channel_id: UUID
    event_id: UUID | None
    alert_id: UUID | None
    event_type: Literal["alert.raised", "alert.resolved", "test"]
    severity: Severity
    payload: dict[str, Any]
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(Answer):
    """Newest first: status, attempts, next attempt, last error and status code."""

    items: list[Delivery]
    next_cursor: str | None
