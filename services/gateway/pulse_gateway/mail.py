"""Outgoing mail: the shared runtime's sender, with the gateway's settings (smtp_url, mail_from,
mail_dir) satisfying its MailSettings protocol."""

from __future__ import annotations

from pulse_runtime.mail import MailSettings, compose, send

__all__ = ["MailSettings", "compose", "send"]
