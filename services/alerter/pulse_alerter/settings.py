"""The alerter's settings: the sweep's cadence, and how notifications are mailed and retried."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pulse_runtime.mail import MailSettings
from pulse_runtime.settings import ServiceSettings

from .notifications import RetryPolicy
from .notifier import NotifyConfig


class AlerterSettings(ServiceSettings):
    service: ClassVar[str] = "alerter"
    default_port: ClassVar[int] = 8004
    session_locks: ClassVar[bool] = True  # pg_try_advisory_lock of one replica at a time
    sweep_seconds: float = 300.0  # kpis.md: every live campaign every 5 minutes
    # Notifications: links in messages point at the dashboard; mail as the gateway sends it.
    dashboard_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    mail_from: str = "Pulse <pulse@localhost>"
    mail_dir: Path = Path("var/mail")
    notify_timeout_s: float = 8.0
    notify_backoff_base_s: float = 30.0
    notify_backoff_max_s: float = 3600.0
    notify_max_attempts: int = 6
    notify_poll_s: float = 5.0
    # Webhooks to private or loopback addresses (and plain http): None = only in development
    # and test, where receivers run on localhost. Production refuses them (design/security.md).
    notify_allow_private_targets: bool | None = None

    def notify_config(self) -> NotifyConfig:
        allow_private = self.notify_allow_private_targets
        if allow_private is None:
            allow_private = self.env in ("development", "test")
        mail_settings: MailSettings = self
        return NotifyConfig(
            dashboard_url=self.dashboard_url,
            policy=RetryPolicy(
                base_s=self.notify_backoff_base_s,
                max_s=self.notify_backoff_max_s,
                max_attempts=self.notify_max_attempts,
            ),
            timeout_s=self.notify_timeout_s,
            allow_private_targets=allow_private,
            mail=mail_settings,
            poll_s=self.notify_poll_s,
        )
