"""Scheduled client reports: each period's report claimed once, rendered, and mailed.

A due schedule is locked (FOR UPDATE SKIP LOCKED) while its period's delivery row is inserted
(unique per schedule and period) and its next due moment set, in one transaction: whichever
replica does that owns the period, so two replicas and a restart mail it once. The mail itself
happens after that commit, under a lease: a replica that dies before marking the delivery sent
leaves it to another once the lease runs out (the one window where a mail may go twice, rather
than never). Every attempt at a delivery carries the same Message-ID, so a mail that did go
twice is one message to the recipients' mail systems, which drop or thread the repeat. Share
builds the report (the client view, which has no money) and the link.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from pulse_contracts import utcnow
from pulse_contracts.internal.share import ScheduledReport, ScheduledReportIn
from pulse_contracts.reports import ReportRequested
from pulse_runtime.logging import get_logger
from pulse_runtime.mail import MailSettings, compose, send
from pulse_runtime.service import Loop, ServiceRuntime

from . import domain
from . import schedule_repository as repo
from .render import render_file

log = get_logger(__name__)
CLIENT_SECTIONS = ("kpis", "growth", "platforms", "creators")
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class ScheduleConfig:
    replica: str
    share_url: str
    mail: MailSettings
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    link_days: int = 30
    poll_s: float = 30.0


async def claim_next(pool: asyncpg.Pool, config: ScheduleConfig, now: datetime) -> UUID | None:
    """A delivery this replica now owns: a due period's, or one a dead replica left."""
    lease_until = now + config.lease
    async with pool.acquire() as conn, conn.transaction():
        schedule = await repo.claim_due(conn, now=now)
        if schedule is not None:
            due = schedule["next_due_at"]
            await repo.advance(
                conn,
                schedule_id=schedule["id"],
                next_due_at=domain.next_due(schedule["cadence"], due, now),
            )
            found = await repo.open_delivery(
                conn,
                schedule=schedule,
                period=domain.period_of(schedule["cadence"], due),
                replica=config.replica,
                lease_until=lease_until,
            )
            if found is not None:
                return found
    async with pool.acquire() as conn:
        return await repo.reclaim(
            conn,
            now=now,
            replica=config.replica,
            lease_until=lease_until,
            max_attempts=config.max_attempts,
        )


async def deliver(
    pool: asyncpg.Pool, http: httpx.AsyncClient, config: ScheduleConfig, delivery_id: UUID
) -> bool:
    """Render the client report and mail it with its share link; True when sent."""
    async with pool.acquire() as conn:
        found = await repo.delivery(conn, delivery_id)
    if found is None:
        return False  # its schedule was deleted meanwhile
    try:
        url, link_id, pdf, filename = await _report(http, config, found)
        await send(config.mail, _message(config.mail, found, url, pdf, filename))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        log.exception("scheduled report not sent", delivery_id=str(delivery_id))
        async with pool.acquire() as conn:
            await repo.mark_failed(
                conn, delivery_id=delivery_id, error=error, max_attempts=config.max_attempts
            )
        return False
    async with pool.acquire() as conn:
        await repo.mark_sent(conn, delivery_id=delivery_id, at=utcnow(), share_link_id=link_id)
    log.info("scheduled report sent", delivery_id=str(delivery_id), period=found["period"])
    return True


async def _report(
    http: httpx.AsyncClient, config: ScheduleConfig, found: dict[str, Any]
) -> tuple[str, UUID, bytes, str]:
    """Share makes the link and the client view's document; the PDF is rendered here. The
    link's URL (with its token) goes into the mail only; the log keeps its id."""
    asked = await http.post(
        f"{config.share_url}/internal/orgs/{found['org_id']}"
        f"/campaigns/{found['campaign_id']}/scheduled-report",
        json=ScheduledReportIn(link_days=config.link_days).model_dump(mode="json"),
    )
    asked.raise_for_status()
    body = ScheduledReport.model_validate(asked.json())
    request = ReportRequested(
        job_id=found["id"],
        requested_by="schedule",
        audience="client",
        format="pdf",
        title=body.title,
        sections=CLIENT_SECTIONS,
        documents=(body.document,),
    )
    rendered = await asyncio.to_thread(render_file, request, lambda _: None)
    return body.url, body.link_id, rendered.content, rendered.filename


def _message(
    mail: MailSettings, found: dict[str, Any], url: str, pdf: bytes, filename: str
) -> EmailMessage:
    period = found["period"]
    text = (
        f"Hello,\n\nyour campaign report for {period} is attached as a PDF.\n"
        f"The live report, always up to date: {url}\n\nThis mail was sent by Pulse on a schedule."
    )
    message = compose(
        mail,
        to=", ".join(found["recipients"]),
        subject=f"Campaign report {period}",
        text=text,
    )
    message["Message-ID"] = delivery_message_id(found["id"], mail.mail_from)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return message


def delivery_message_id(delivery_id: UUID, mail_from: str) -> str:
    """One Message-ID per delivery, the same on every attempt (RFC 5322 3.6.4), in the sender's
    domain: a repeat after a lost lease is the same message, not a second report."""
    _, at, domain_part = parseaddr(mail_from)[1].rpartition("@")
    return f"<report.{delivery_id.hex}@{domain_part if at and domain_part else 'pulse.invalid'}>"


def schedule_loop(config: ScheduleConfig, service_token: str) -> Loop:
    """Claim and send due reports; sleep `poll_s` when there is nothing to do."""

    async def run(runtime: ServiceRuntime) -> None:
        headers = {"X-Pulse-Service-Token": service_token}
        async with httpx.AsyncClient(trust_env=False, headers=headers, timeout=30) as http:
            while True:
                delivery_id = await claim_next(runtime.pool, config, utcnow())
                if delivery_id is None:
                    await asyncio.sleep(config.poll_s)
                    continue
                await deliver(runtime.pool, http, config, delivery_id)

    return run
