"""Notifications: queue a delivery per listening channel for each alert event, and send them
(webhooks, email) from a loop that retries with backoff, apart from alert evaluation."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aiosmtplib
import asyncpg
import httpx

from pulse_contracts import Envelope, EventData, utcnow
from pulse_contracts.alerts import AlertRaised, AlertResolved
from pulse_runtime import mail
from pulse_runtime.errors import ApiError
from pulse_runtime.inbox import first_delivery
from pulse_runtime.logging import get_logger
from pulse_runtime.messaging import subscribe_events
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import notify_repository as repo
from .notifications import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    RetryPolicy,
    after_attempt,
    body_bytes,
    is_public_address,
    new_secret,
    notice_of,
    payload,
    signature_header,
    test_notice,
)

log = get_logger(__name__)

NOTIFY_QUEUE = "alerter.notify"
Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True)
class NotifyConfig:
    dashboard_url: str
    policy: RetryPolicy
    timeout_s: float
    allow_private_targets: bool  # development and test only: receivers on localhost
    mail: mail.MailSettings
    batch_size: int = 50
    concurrency: int = 8
    poll_s: float = 5.0


# --- queueing deliveries (inside the event's transaction) ----------------------------------


async def on_alert_event(
    pool: asyncpg.Pool, envelope: Envelope[Any], now: datetime, config: NotifyConfig
) -> int:
    """One delivery per listening channel, committed with the inbox row; returns how many.

    A raise (or escalation) goes to every enabled channel whose minimum severity it reaches; a
    resolution goes to the enabled channels that were told about the raise.
    """
    event = envelope.data
    assert isinstance(event, AlertRaised | AlertResolved)
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, repo.SCHEMA, envelope.event_id, envelope.type):
            return 0
        if isinstance(event, AlertRaised):
            listeners = await repo.channels_for_raise(
                conn, org_id=envelope.org_id, severity=event.severity
            )
        else:
            listeners = await repo.channels_for_resolve(
                conn, org_id=envelope.org_id, alert_id=event.alert_id
            )
        notice = notice_of(
            event,
            event_id=envelope.event_id,
            org_id=envelope.org_id,
            occurred_at=envelope.occurred_at,
            dashboard_url=config.dashboard_url,
        )
        deliveries = [
            repo.NewDelivery(
                id=uuid4(),
                channel_id=listener.id,
                event_id=envelope.event_id,
                alert_id=event.alert_id,
                event_type=envelope.type,
                severity=event.severity,
                payload=payload(notice, listener.kind, listener.format),
            )
            for listener in listeners
        ]
        await repo.insert_deliveries(conn, org_id=envelope.org_id, deliveries=deliveries, now=now)
    return len(deliveries)


def register_notify_consumer(runtime: ServiceRuntime, notifier: Notifier) -> None:
    async def alert_event(envelope: Envelope[EventData]) -> None:
        if await on_alert_event(runtime.pool, envelope, utcnow(), notifier.config):
            notifier.wake()

    subscribe_events(
        runtime.broker,
        QUEUES[NOTIFY_QUEUE],
        alert_event,
        accepts=(AlertRaised, AlertResolved),
    )


# --- channels -------------------------------------------------------------------------------


def check_target(kind: str, target: str, *, allow_private: bool) -> str:
    """The target as stored, or a 422 naming `target`."""
    target = target.strip()
    if kind == "email":
        local, at, domain = target.rpartition("@")
        if not (at and local and "." in domain) or any(c.isspace() for c in target):
            raise _bad_target("an email address like alerts@agency.example")
        return target
    try:
        url = httpx.URL(target)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise _bad_target("a webhook URL (https://…)") from exc
    allowed = ("https", "http") if allow_private else ("https",)
    if url.scheme not in allowed or not url.host:
        raise _bad_target("an https:// URL")
    if url.userinfo:
        raise _bad_target("a URL without user:password (they would be sent to every redirect)")
    return target


def _bad_target(expected: str) -> ApiError:
    return ApiError(
        422,
        f"target must be {expected}",
        details=[{"path": "body.target", "message": f"expected {expected}"}],
    )


async def create_channel(
    pool: asyncpg.Pool, config: NotifyConfig, *, org_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    """The new channel, with its webhook signing secret: the only time either is shown whole."""
    kind = values["kind"]
    target = check_target(kind, values["target"], allow_private=config.allow_private_targets)
    secret = new_secret() if kind == "webhook" else None
    async with pool.acquire() as conn:
        row = await repo.insert_channel(
            conn,
            channel_id=uuid4(),
            org_id=org_id,
            kind=kind,
            name=values["name"],
            target=target,
            format=values.get("format") or "json",
            min_severity=values.get("min_severity") or "warning",
            enabled=values.get("enabled", True),
            signing_secret=secret,
            now=utcnow(),
        )
    return {**row, "signing_secret": secret}


async def update_channel(
    pool: asyncpg.Pool,
    config: NotifyConfig,
    *,
    org_id: UUID,
    channel_id: UUID,
    changes: dict[str, Any],
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        current = await repo.get_channel(conn, org_id=org_id, channel_id=channel_id)
        if current is None:
            raise ApiError(404, f"no notification channel {channel_id}")
        merged = {**current, **{k: v for k, v in changes.items() if v is not None}}
        if "target" in changes and changes["target"] is not None:
            merged["target"] = check_target(
                current["kind"], changes["target"], allow_private=config.allow_private_targets
            )
        row = await repo.update_channel(
            conn,
            org_id=org_id,
            channel_id=channel_id,
            name=merged["name"],
            target=merged["target"],
            format=merged["format"],
            min_severity=merged["min_severity"],
            enabled=merged["enabled"],
        )
    assert row is not None
    return row


async def send_test(
    pool: asyncpg.Pool, config: NotifyConfig, *, org_id: UUID, channel_id: UUID
) -> dict[str, Any]:
    """Queue a test delivery to the channel (enabled or not); the log shows how it went."""
    now = utcnow()
    async with pool.acquire() as conn, conn.transaction():
        channel = await repo.get_channel(conn, org_id=org_id, channel_id=channel_id)
        if channel is None:
            raise ApiError(404, f"no notification channel {channel_id}")
        notice = test_notice(
            org_id=org_id, channel_name=channel["name"], at=now, dashboard_url=config.dashboard_url
        )
        delivery = repo.NewDelivery(
            id=uuid4(),
            channel_id=channel_id,
            event_id=None,
            alert_id=None,
            event_type="test",
            severity="info",
            payload=payload(notice, channel["kind"], channel["format"]),
        )
        await repo.insert_deliveries(conn, org_id=org_id, deliveries=[delivery], now=now)
        found = await repo.get_delivery(conn, org_id=org_id, delivery_id=delivery.id)
    assert found is not None
    return found


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    ok: bool
    permanent: bool = False
    error: str | None = None
    status_code: int | None = None


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Sender:
    """Sends one claimed delivery; never raises, the Attempt says what happened."""

    def __init__(
        self, config: NotifyConfig, http: httpx.AsyncClient, resolver: Resolver | None = None
    ) -> None:
        self._config = config
        self._http = http
        self._resolve = resolver or _system_resolver

    async def attempt(self, delivery: repo.Claimed) -> Attempt:
        if not delivery.enabled and delivery.event_type != "test":
            return Attempt(ok=False, permanent=True, error="the channel was disabled")
        try:
            async with asyncio.timeout(self._config.timeout_s):
                if delivery.kind == "email":
                    return await self._email(delivery)
                return await self._webhook(delivery)
        except TimeoutError:
            return Attempt(ok=False, error=f"no answer within {self._config.timeout_s:g} s")
        except (httpx.HTTPError, OSError, aiosmtplib.SMTPException) as exc:
            return Attempt(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])

    async def _email(self, delivery: repo.Claimed) -> Attempt:
        message = mail.compose(
            self._config.mail,
            to=delivery.target,
            subject=str(delivery.payload["subject"]),
            text=str(delivery.payload["text"]),
        )
        message[EVENT_HEADER] = delivery.event_type
        message[DELIVERY_HEADER] = str(delivery.id)
        await mail.send(self._config.mail, message, timeout_s=self._config.timeout_s)
        return Attempt(ok=True)

    async def _webhook(self, delivery: repo.Claimed) -> Attempt:
        url = httpx.URL(delivery.target)
        host = url.raw_host.decode("ascii").lower()
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self._resolve(host, port)
        if not addresses:
            return Attempt(ok=False, error=f"cannot resolve {host}")
        # Every answer must be public (a zone mixing public and internal records is the classic
        # trick); refusing is permanent because retrying cannot make the address public.
        if not self._config.allow_private_targets and not all(
            is_public_address(a) for a in addresses
        ):
            return Attempt(
                ok=False, permanent=True, error=f"{host} resolves to a non-public address"
            )
        body = body_bytes(delivery.payload)
        assert delivery.signing_secret is not None
        headers = {
            "Host": url.netloc.decode("ascii").rsplit("@", 1)[-1],
            "Content-Type": "application/json",
            "User-Agent": "Pulse-Notifier/1.0",
            SIGNATURE_HEADER: signature_header(delivery.signing_secret, int(time.time()), body),
            EVENT_HEADER: delivery.event_type,
            DELIVERY_HEADER: str(delivery.id),
        }
        last_error: Exception | None = None
        for address in addresses:
            # Connect to the address that was checked, not to a second DNS answer (rebinding);
            # TLS still verifies the certificate for the original name through SNI.
            request = httpx.Request(
                "POST",
                url.copy_with(host=address.split("%", 1)[0]),
                headers=headers,
                content=body,
                extensions={"sni_hostname": host},
            )
            try:
                response = await self._http.send(request, follow_redirects=False)
            except httpx.ConnectError as exc:
                last_error = exc  # nothing was sent: the next address is safe to try
                continue
            if 200 <= response.status_code < 300:
                return Attempt(ok=True, status_code=response.status_code)
            reason = (
                "redirects are not followed"
                if 300 <= response.status_code < 400
                else response.text[:200].strip()
            )
            return Attempt(
                ok=False,
                error=f"HTTP {response.status_code}" + (f": {reason}" if reason else ""),
                status_code=response.status_code,
            )
        return Attempt(ok=False, error=f"cannot connect to {host}: {last_error!r}"[:500])


async def deliver_due(pool: asyncpg.Pool, sender: Sender, config: NotifyConfig) -> int:
    """Claim due deliveries, send them concurrently, record each outcome; returns how many."""
    now = utcnow()
    lease = timedelta(seconds=config.timeout_s + 30)
    async with pool.acquire() as conn, conn.transaction():
        claimed = await repo.claim_due(
            conn, now=now, lease_until=now + lease, limit=config.batch_size
        )
    gate = asyncio.Semaphore(config.concurrency)

    async def one(delivery: repo.Claimed) -> None:
        async with gate:
            result = await sender.attempt(delivery)
        done = utcnow()
        outcome = after_attempt(
            config.policy,
            attempts=delivery.attempts,
            ok=result.ok,
            permanent=result.permanent,
            now=done,
            spread=random.random(),
        )
        async with pool.acquire() as conn:
            await repo.record_attempt(
                conn,
                delivery_id=delivery.id,
                attempts=delivery.attempts,
                status=outcome.status,
                next_attempt_at=outcome.next_attempt_at,
                delivered_at=outcome.delivered_at,
                error=result.error,
                status_code=result.status_code,
            )
        if outcome.status != "delivered":
            log.warning(
                "notification not delivered",
                delivery_id=str(delivery.id),
                channel_id=str(delivery.channel_id),
                attempts=delivery.attempts,
                status=outcome.status,
                error=result.error,
            )

    await asyncio.gather(*(one(d) for d in claimed))
    return len(claimed)


@dataclass
class Notifier:
    """The sending loop of one replica: woken by the consumer, by NOTIFY from other replicas,
    and at the next due retry (or the poll interval, whichever comes first)."""

    config: NotifyConfig
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self._wake.set()

    async def run(self, runtime: ServiceRuntime) -> None:
        listener = await self._listen(runtime.settings.dsn)
        try:
            async with httpx.AsyncClient(
                trust_env=False, follow_redirects=False, timeout=self.config.timeout_s
            ) as http:
                sender = Sender(self.config, http)
                while True:
                    self._wake.clear()
                    sent = await deliver_due(runtime.pool, sender, self.config)
                    if sent >= self.config.batch_size:
                        continue
                    if listener is None or listener.is_closed():
                        listener = await self._listen(runtime.settings.dsn)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._wake.wait(), timeout=await self._until_next(runtime.pool)
                        )
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()

    async def _until_next(self, pool: asyncpg.Pool) -> float:
        async with pool.acquire() as conn:
            due = await repo.next_due(conn)
        if due is None:
            return self.config.poll_s
        return max(0.005, min(self.config.poll_s, (due - utcnow()).total_seconds()))

    async def _listen(self, dsn: str) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(dsn)
            await conn.add_listener(repo.NOTIFY_CHANNEL, lambda *_: self._wake.set())
            return conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("notifications LISTEN unavailable; polling", error=repr(exc))
            return None
