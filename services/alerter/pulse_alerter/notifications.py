"""Notification rules, pure: which channels hear an alert, what they are sent, how it is signed,
when a failed delivery is tried again, and which webhook addresses may be called."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from uuid import UUID

from pulse_contracts.alerts import AlertRaised, AlertResolved
from pulse_contracts.values import SEVERITY_RANK
from pulse_runtime import media_proxy

ChannelKind = Literal["webhook", "email"]
WebhookFormat = Literal["json", "slack"]
DeliveryStatus = Literal["pending", "delivered", "failed"]

SIGNATURE_HEADER: Final = "X-Pulse-Signature"
EVENT_HEADER: Final = "X-Pulse-Event"
DELIVERY_HEADER: Final = "X-Pulse-Delivery"
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a prefix, not a secret
TEST_EVENT: Final = "test"

_TYPE_NAMES = {
    "under_kpi": "Under KPI",
    "engagement_drop": "Engagement drop",
    "deadline": "Deadline",
    "stale_data": "Stale data",
    "viral": "Viral post",
    "sentiment": "Negative sentiment",
}
_SLACK_ICONS = {
    "info": ":information_source:",
    "warning": ":warning:",
    "critical": ":rotating_light:",
}


# --- who hears what -----------------------------------------------------------------------


def hears(min_severity: str, severity: str) -> bool:
    """A channel hears alerts at or above its minimum severity (info < warning < critical)."""
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[min_severity]


# --- what is sent ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One alert event as notifications tell it, whatever the channel."""

    event_type: str  # alert.raised | alert.resolved | test
    event_id: UUID | None
    org_id: UUID
    occurred_at: datetime
    alert: dict[str, Any]  # the event's data, JSON-ready
    link: str

    @property
    def severity(self) -> str:
        return str(self.alert["severity"])

    @property
    def headline(self) -> str:
        kind = _TYPE_NAMES.get(str(self.alert.get("type")), str(self.alert.get("type")))
        severity = self.severity.capitalize()
        if self.event_type == "alert.resolved":
            return f"Resolved: {kind} ({severity})"
        if self.event_type == TEST_EVENT:
            return "Test notification from Pulse"
        if self.alert.get("escalated"):
            return f"{severity} (escalated): {kind}"
        return f"{severity}: {kind}"


def notice_of(
    event: AlertRaised | AlertResolved,
    *,
    event_id: UUID,
    org_id: UUID,
    occurred_at: datetime,
    dashboard_url: str,
) -> Notice:
    return Notice(
        event_type=event.event_type,
        event_id=event_id,
        org_id=org_id,
        occurred_at=occurred_at,
        alert=event.model_dump(mode="json"),
        link=_link(dashboard_url, event.campaign_id),
    )


def test_notice(*, org_id: UUID, channel_name: str, at: datetime, dashboard_url: str) -> Notice:
    return Notice(
        event_type=TEST_EVENT,
        event_id=None,
        org_id=org_id,
        occurred_at=at,
        alert={
            "alert_id": None,
            "type": "test",
            "severity": "info",
            "message": f"Channel “{channel_name}” is set up: Pulse alerts will arrive here.",
        },
        link=_link(dashboard_url, None),
    )


def _link(dashboard_url: str, campaign_id: UUID | None) -> str:
    base = dashboard_url.rstrip("/")
    return f"{base}/campaigns/{campaign_id}" if campaign_id else f"{base}/alerts"


def payload(notice: Notice, kind: str, fmt: str) -> dict[str, Any]:
    """The document stored with the delivery and sent as is (email: subject and text)."""
    if kind == "email":
        return {"subject": f"[Pulse] {notice.headline}", "text": email_text(notice)}
    if fmt == "slack":
        return slack_message(notice)
    return {
        "event": notice.event_type,
        "event_id": str(notice.event_id) if notice.event_id else None,
        "org_id": str(notice.org_id),
        "occurred_at": _iso(notice.occurred_at),
        "alert": notice.alert,
        "link": notice.link,
    }


def slack_message(notice: Notice) -> dict[str, Any]:
    """Slack's incoming-webhook shape: `text` for notifications, `blocks` for the message."""
    message = str(notice.alert.get("message", ""))
    icon = ":white_check_mark:" if notice.event_type == "alert.resolved" else ""
    icon = icon or _SLACK_ICONS.get(notice.severity, "")
    context = f"Pulse · {_iso(notice.occurred_at)}"
    if notice.alert.get("note"):
        context += f" · note: {notice.alert['note']}"
    return {
        "text": f"{notice.headline}: {message}",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"{icon} *{notice.headline}*\n{message}"},
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"{context} · <{notice.link}|Open in Pulse>"}
                ],
            },
        ],
    }


def email_text(notice: Notice) -> str:
    lines = [notice.headline, "", str(notice.alert.get("message", "")), ""]
    if notice.alert.get("note"):
        lines += [f"Note: {notice.alert['note']}", ""]
    lines += [
        f"Severity: {notice.severity}",
        f"When: {_iso(notice.occurred_at)}",
        f"Open in Pulse: {notice.link}",
    ]
    return "\n".join(lines) + "\n"


def body_bytes(document: dict[str, Any]) -> bytes:
    """The exact bytes posted and signed."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# --- signatures (the same scheme as ingest's inbound webhook, design/api.md) -----------------


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256(secret, "<t>.<raw body>")."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


# --- retries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: base, 4×base, 16×base … capped; failed after N attempts.

    With the defaults: 30 s, 2 min, 8 min, 32 min, 1 h, then failed at the 6th attempt.
    """

    base_s: float = 30.0
    factor: float = 4.0
    max_s: float = 3600.0
    max_attempts: int = 6
    jitter: float = 0.2  # ± this share of the delay, so many failing channels do not sync up

    def delay(self, attempts: int, spread: float = 0.5) -> timedelta:
        """The wait after the `attempts`-th failed attempt; `spread` in [0, 1] picks the jitter."""
        raw = min(self.max_s, self.base_s * self.factor ** max(0, attempts - 1))
        return timedelta(seconds=raw * (1 + self.jitter * (2 * spread - 1)))

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


@dataclass(frozen=True)
class Outcome:
    """What one attempt did to a delivery."""

    status: DeliveryStatus
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def after_attempt(
    policy: RetryPolicy,
    *,
    attempts: int,
    ok: bool,
    permanent: bool,
    now: datetime,
    spread: float,
) -> Outcome:
    """The delivery's state after its `attempts`-th attempt (already counted)."""
    if ok:
        return Outcome("delivered", None, now)
    if permanent or policy.gives_up(attempts):
        return Outcome("failed", None, None)
    return Outcome("pending", now + policy.delay(attempts, spread), None)


# --- where webhooks may go ------------------------------------------------------------------


def is_public_address(ip: str) -> bool:
    """The media proxy's rule (design/security.md), after dropping an IPv6 scope id
    ("fe80::1%eth0"), which a resolver may attach to a webhook host's address."""
    return media_proxy.is_public_address(ip.split("%", 1)[0])


def mask_target(kind: str, target: str) -> str:
    """Webhook URLs are often credentials (Slack, Teams): after creation only the scheme, host
    and the last four characters are shown. Email addresses are shown as they are."""
    if kind != "webhook":
        return target
    scheme, sep, rest = target.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}{sep}{host}/…{target[-4:]}" if "/" in rest else f"{scheme}{sep}{host}"
