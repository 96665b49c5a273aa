"""A scheduled report's mail: every attempt at one delivery is the same message (Message-ID), so
the one window where a mail may go twice (a replica dying between sending and marking it sent,
schedules.py) never shows the client two reports."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from uuid import UUID

from pulse_reporter.schedules import _message, delivery_message_id

DELIVERY, OTHER = UUID(int=0xD1), UUID(int=0xD2)


@dataclass(frozen=True)
class Mail:
    smtp_url: str | None = None
    mail_from: str = "Pulse Reports <reports@agency.example>"
    mail_dir: Path = Path("/nonexistent")


def _mail(delivery_id: UUID, attempt: int) -> bytes:
    found = {"id": delivery_id, "recipients": ["brand@client.example"], "period": "2026-W49"}
    message = _message(Mail(), found, f"https://share/{attempt}", b"%PDF-1.7", "r.pdf")
    return bytes(message)


def test_two_attempts_at_one_delivery_are_one_message_and_another_delivery_is_not() -> None:
    # Parsed as a mail system does (a long header may be folded on the wire).
    first, again = (message_from_bytes(_mail(DELIVERY, n), policy=policy.default) for n in (1, 2))
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"] == f"<report.{DELIVERY.hex}@agency.example>"
    other = message_from_bytes(_mail(OTHER, 1), policy=policy.default)
    assert other["Message-ID"] != first["Message-ID"]


def test_a_sender_without_a_domain_still_gets_a_well_formed_id() -> None:
    assert delivery_message_id(DELIVERY, "pulse") == f"<report.{DELIVERY.hex}@pulse.invalid>"
