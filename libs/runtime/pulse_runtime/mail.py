"""Outgoing mail for any service: a real SMTP client, or .eml files in a folder for development."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit
from uuid import uuid4

import aiosmtplib


class MailSettings(Protocol):
    """What sending needs; each service's settings class provides these three keys.

    `smtp_url`: `smtp://[user:password@]host[:port]`, `smtp+starttls://…` or `smtps://…`;
    without one, messages are written as .eml files to `mail_dir` (local development).
    """

    @property
    def smtp_url(self) -> str | None: ...

    @property
    def mail_from(self) -> str: ...

    @property
    def mail_dir(self) -> Path: ...


def compose(
    settings: MailSettings, *, to: str, subject: str, text: str, html: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def send(settings: MailSettings, message: EmailMessage, *, timeout_s: float = 10) -> None:
    if settings.smtp_url:
        url = urlsplit(settings.smtp_url)
        await aiosmtplib.send(
            message,
            hostname=url.hostname or "localhost",
            port=url.port or (465 if url.scheme == "smtps" else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            start_tls=url.scheme == "smtp+starttls",
            use_tls=url.scheme == "smtps",
            timeout=timeout_s,
        )
        return
    await asyncio.to_thread(_write_eml, settings.mail_dir, message)


def _write_eml(directory: Path, message: EmailMessage) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{uuid4()}.eml").write_bytes(bytes(message))
