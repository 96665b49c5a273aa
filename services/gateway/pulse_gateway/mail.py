"""Outgoing mail: a real SMTP client, or .eml files in a folder for local development."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import aiosmtplib

from .settings import GatewaySettings


def compose(settings: GatewaySettings, *, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message


async def send(settings: GatewaySettings, message: EmailMessage) -> None:
    if settings.smtp_url:
        url = urlsplit(settings.smtp_url)
        await aiosmtplib.send(
            message,
            hostname=url.hostname or "localhost",
            port=url.port or 25,
            username=url.username,
            password=url.password,
            start_tls=url.scheme == "smtp+starttls",
            use_tls=url.scheme == "smtps",
            timeout=10,
        )
        return
    await asyncio.to_thread(_write_eml, settings.mail_dir, message)


def _write_eml(directory: Path, message: EmailMessage) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{uuid4()}.eml").write_bytes(bytes(message))
