"""Notifications on real PostgreSQL, RabbitMQ, HTTP and SMTP: which channels hear an alert, one
delivery per event however often it is redelivered, signed webhooks, Slack's shape, email
through a real SMTP server, retries with backoff and the failed state in the delivery log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller

from pulse_alerter import notifier
from pulse_alerter.notifications import RetryPolicy, after_attempt, mask_target
from pulse_contracts import Envelope, make_event, parse_event
from pulse_contracts.alerts import AlertRaised, AlertResolved
from pulse_runtime.db import create_pool
from pulse_runtime.errors import ApiError
from tests.support.servers import Servers
from tests.support.services import ROOT, SERVICE_TOKEN, ServiceProcess, free_port, settings_for

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


# --- a webhook receiver and an SMTP sink, both real servers ---------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on a free port that records every POST and answers `status(path)`."""

    status: Callable[[str], int] = lambda _: 200
    seen: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.seen if r.path == path]

    @property
    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                receiver.seen.append(Received(self.path, dict(self.headers.items()), body))
                code = receiver.status(self.path)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"no")

            def log_message(self, *_: Any) -> None:
                pass

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(status=lambda path: 500 if path.startswith("/broken") else 200)
    server = ThreadingHTTPServer(("127.0.0.1", found.port), found.handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


class Sink:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def verify_signature(received: Received, secret: str) -> None:
    """What a receiver does: HMAC-SHA256(secret, "<t>.<raw body>") against the v1 value."""
    parts = dict(p.split("=", 1) for p in received.headers["X-Pulse-Signature"].split(","))
    assert abs(time.time() - int(parts["t"])) < 300
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


# --- database-level: matching, dedupe, resolution, backoff, failure -------------------------


@dataclass(frozen=True)
class _Mail:
    smtp_url: str | None
    mail_from: str
    mail_dir: Path


def config(tmp_path: Path, *, smtp_url: str | None = None, attempts: int = 6) -> Any:
    return notifier.NotifyConfig(
        dashboard_url="https://pulse.agency.example",
        policy=RetryPolicy(base_s=0.01, factor=2, max_s=0.05, max_attempts=attempts, jitter=0),
        timeout_s=5,
        allow_private_targets=True,
        mail=_Mail(smtp_url, "Pulse <alerts@agency.example>", tmp_path / "mail"),
        poll_s=0.05,
    )


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("alerter", servers).dsn)
    yield created
    await created.close()


def raised(
    severity: str = "warning", alert_id: UUID | None = None, *, escalated: bool = False
) -> AlertRaised:
    return AlertRaised(
        alert_id=alert_id or uuid4(),
        campaign_id=uuid4(),
        type="under_kpi",
        severity=severity,
        message="Winter Drop is at 41% of its KPI with 80% of the timeline gone",
        debounce_key=f"under_kpi:campaign:{uuid4()}:80",
        raised_at=NOW,
        escalated=escalated,
    )


def resolved(alert: AlertRaised) -> AlertResolved:
    return AlertResolved(
        alert_id=alert.alert_id,
        campaign_id=alert.campaign_id,
        type=alert.type,
        severity=alert.severity,
        message=alert.message,
        debounce_key=alert.debounce_key,
        resolved_at=NOW,
        resolved_by="user",
        note="client agreed to extend",
    )


async def add_channel(
    pool: asyncpg.Pool,
    cfg: Any,
    org_id: UUID,
    *,
    min_severity: str,
    kind: str = "webhook",
    target: str = "http://127.0.0.1:9/hook",
    enabled: bool = True,
    fmt: str = "json",
) -> dict[str, Any]:
    return await notifier.create_channel(
        pool,
        cfg,
        org_id=org_id,
        values={
            "kind": kind,
            "name": f"{kind} {min_severity}",
            "target": target,
            "format": fmt,
            "min_severity": min_severity,
            "enabled": enabled,
        },
    )


async def deliveries(pool: asyncpg.Pool, org_id: UUID) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT * FROM alerter.notification_deliveries WHERE org_id = $1 ORDER BY created_at",
            org_id,
        )
    )


async def test_channels_hear_alerts_at_or_above_their_minimum_severity(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    cfg, org, other_org = config(tmp_path), uuid4(), uuid4()
    info = await add_channel(pool, cfg, org, min_severity="info")
    warning = await add_channel(
        pool, cfg, org, min_severity="warning", kind="email", target="ops@agency.example"
    )
    critical = await add_channel(pool, cfg, org, min_severity="critical")
    await add_channel(pool, cfg, org, min_severity="info", enabled=False)
    await add_channel(pool, cfg, other_org, min_severity="info")

    def listeners(rows: list[asyncpg.Record], event_id: UUID) -> set[UUID]:
        return {r["channel_id"] for r in rows if r["event_id"] == event_id}

    for severity, expected in (
        ("info", {info["id"]}),
        ("warning", {info["id"], warning["id"]}),
        ("critical", {info["id"], warning["id"], critical["id"]}),
    ):
        envelope = make_event(raised(severity), org_id=org, producer="alerter")
        assert await notifier.on_alert_event(pool, envelope, NOW, cfg) == len(expected)
        assert listeners(await deliveries(pool, org), envelope.event_id) == expected
    assert await deliveries(pool, other_org) == []

    # The stored payload is what each channel is sent: its own format.
    rows = await deliveries(pool, org)
    email = next(r for r in rows if r["channel_id"] == warning["id"])
    assert email["payload"]["subject"].startswith("[Pulse] ")
    assert "41% of its KPI" in email["payload"]["text"]
    hook = next(r for r in rows if r["channel_id"] == info["id"])
    assert hook["payload"]["event"] == "alert.raised"
    assert hook["payload"]["alert"]["severity"] == "info"
    assert hook["status"] == "pending"
    assert hook["attempts"] == 0


async def test_a_redelivered_event_queues_one_delivery(pool: asyncpg.Pool, tmp_path: Path) -> None:
    cfg, org = config(tmp_path), uuid4()
    await add_channel(pool, cfg, org, min_severity="info")
    envelope = make_event(raised("critical"), org_id=org, producer="alerter")
    assert await notifier.on_alert_event(pool, envelope, NOW, cfg) == 1
    assert await notifier.on_alert_event(pool, envelope, NOW, cfg) == 0
    # The same event parsed again from the wire (a broker redelivery) is still the same event.
    again = parse_event(envelope.model_dump_json().encode())
    assert await notifier.on_alert_event(pool, again, NOW, cfg) == 0
    assert len(await deliveries(pool, org)) == 1


async def test_a_resolution_goes_to_the_channels_that_heard_the_raise(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    cfg, org = config(tmp_path), uuid4()
    loud = await add_channel(pool, cfg, org, min_severity="info")
    await add_channel(pool, cfg, org, min_severity="critical")
    alert = raised("warning")
    await notifier.on_alert_event(pool, make_event(alert, org_id=org, producer="alerter"), NOW, cfg)
    late = await add_channel(pool, cfg, org, min_severity="info")  # never heard the raise
    end = make_event(resolved(alert), org_id=org, producer="alerter")
    assert await notifier.on_alert_event(pool, end, NOW, cfg) == 1
    rows = [r for r in await deliveries(pool, org) if r["event_type"] == "alert.resolved"]
    assert [r["channel_id"] for r in rows] == [loud["id"]]
    assert late["id"] not in {r["channel_id"] for r in await deliveries(pool, org)}
    assert rows[0]["payload"]["alert"]["note"] == "client agreed to extend"


def test_backoff_grows_is_capped_jittered_and_gives_up() -> None:
    policy = RetryPolicy()  # the production defaults
    delays = [policy.delay(n).total_seconds() for n in range(1, 7)]
    assert delays == [30, 120, 480, 1920, 3600, 3600]
    assert policy.delay(1, spread=0).total_seconds() == pytest.approx(24)
    assert policy.delay(1, spread=1).total_seconds() == pytest.approx(36)
    pending = after_attempt(policy, attempts=2, ok=False, permanent=False, now=NOW, spread=0.5)
    assert (pending.status, pending.next_attempt_at) == ("pending", NOW + timedelta(minutes=2))
    assert (
        after_attempt(policy, attempts=6, ok=False, permanent=False, now=NOW, spread=0.5).status
        == "failed"
    )
    assert (
        after_attempt(policy, attempts=1, ok=False, permanent=True, now=NOW, spread=0.5).status
        == "failed"
    )
    assert (
        after_attempt(policy, attempts=3, ok=True, permanent=False, now=NOW, spread=0.5).status
        == "delivered"
    )


def test_webhook_urls_are_masked_after_creation() -> None:
    url = "https://hooks.slack.com/services/T000/B000/abcdWXYZ"
    assert mask_target("webhook", url) == "https://hooks.slack.com/…WXYZ"
    assert "B000" not in mask_target("webhook", url)
    assert mask_target("email", "ops@agency.example") == "ops@agency.example"


async def _send_until_settled(pool: asyncpg.Pool, cfg: Any, delivery_id: UUID) -> asyncpg.Record:
    async with httpx.AsyncClient(trust_env=False) as http:
        sender = notifier.Sender(cfg, http)

        async def settled() -> asyncpg.Record | None:
            await notifier.deliver_due(pool, sender, cfg)
            row = await pool.fetchrow(
                "SELECT * FROM alerter.notification_deliveries WHERE id = $1", delivery_id
            )
            return row if row is not None and row["status"] != "pending" else None

        found: asyncpg.Record = await eventually(settled)
        return found


async def test_a_failing_receiver_gets_every_retry_then_the_delivery_fails(
    pool: asyncpg.Pool, tmp_path: Path, receiver: Receiver
) -> None:
    cfg, org = config(tmp_path, attempts=4), uuid4()
    channel = await add_channel(pool, cfg, org, min_severity="info", target=receiver.url("/broken"))
    envelope = make_event(raised("warning"), org_id=org, producer="alerter")
    await notifier.on_alert_event(pool, envelope, NOW, cfg)
    (row,) = await deliveries(pool, org)
    final = await _send_until_settled(pool, cfg, row["id"])
    assert final["status"] == "failed"
    assert final["attempts"] == 4
    assert final["last_status_code"] == 500
    assert final["last_error"].startswith("HTTP 500")
    hits = receiver.on("/broken")
    assert len(hits) == 4  # every attempt reached the receiver, each signed
    for hit in hits:
        verify_signature(hit, channel["signing_secret"])
        assert hit.headers["X-Pulse-Delivery"] == str(row["id"])


async def test_a_refused_private_target_fails_at_once(pool: asyncpg.Pool, tmp_path: Path) -> None:
    strict = replace(config(tmp_path), allow_private_targets=False)
    org = uuid4()
    # Created while private targets were allowed (e.g. an address that later resolves inward).
    await add_channel(
        pool, config(tmp_path), org, min_severity="info", target="https://localhost:9/hook"
    )
    await notifier.on_alert_event(
        pool, make_event(raised(), org_id=org, producer="alerter"), NOW, strict
    )
    (row,) = await deliveries(pool, org)
    final = await _send_until_settled(pool, strict, row["id"])
    assert (final["status"], final["attempts"]) == ("failed", 1)
    assert "non-public address" in final["last_error"]


async def test_production_channels_need_public_https_targets(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    strict = replace(config(tmp_path), allow_private_targets=False)
    with pytest.raises(ApiError) as refused:
        await add_channel(pool, strict, uuid4(), min_severity="info", target="http://x.example/h")
    assert refused.value.details[0]["path"] == "body.target"
    with pytest.raises(ApiError):
        await add_channel(
            pool, strict, uuid4(), min_severity="info", kind="email", target="not an address"
        )


# --- end to end: alert.raised on the broker → alerter process → receivers ------------------


@pytest.fixture
def alerter(
    service_env: dict[str, str], smtp: tuple[Sink, int], tmp_path: Path
) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        "alerter",
        {
            **service_env,
            "PULSE_ALERTER_SMTP_URL": f"smtp://127.0.0.1:{smtp[1]}",
            "PULSE_ALERTER_MAIL_FROM": "Pulse <alerts@agency.example>",
            "PULSE_ALERTER_NOTIFY_BACKOFF_BASE_S": "0.05",
            "PULSE_ALERTER_NOTIFY_BACKOFF_MAX_S": "0.2",
            "PULSE_ALERTER_NOTIFY_MAX_ATTEMPTS": "3",
            "PULSE_ALERTER_NOTIFY_POLL_S": "0.5",
            "PULSE_ALERTER_DASHBOARD_URL": "https://pulse.agency.example",
        },
        LOGS,
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


async def publish(servers: Servers, envelope: Envelope[Any]) -> None:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange("pulse.events")
        await exchange.publish(
            aio_pika.Message(
                envelope.model_dump_json().encode(),
                message_id=str(envelope.event_id),
                correlation_id=envelope.correlation_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=envelope.type,
        )


async def test_alert_events_reach_webhooks_signed_slack_and_email_and_failures_show(
    alerter: ServiceProcess,
    receiver: Receiver,
    smtp: tuple[Sink, int],
    servers: Servers,
) -> None:
    sink = smtp[0]
    org = uuid4()
    api = httpx.AsyncClient(
        base_url=f"{alerter.url}/internal/orgs/{org}",
        headers={"X-Pulse-Service-Token": SERVICE_TOKEN},
        timeout=10,
    )

    async def channel(**values: Any) -> dict[str, Any]:
        response = await api.post("/notification-channels", json=values)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async with api:
        hook = await channel(
            kind="webhook", name="Ops", target=receiver.url("/hook"), min_severity="info"
        )
        slack = await channel(
            kind="webhook",
            name="#alerts",
            target=receiver.url("/slack"),
            format="slack",
            min_severity="warning",
        )
        broken = await channel(
            kind="webhook", name="Down", target=receiver.url("/broken"), min_severity="info"
        )
        email = await channel(
            kind="email", name="Account team", target="team@agency.example", min_severity="critical"
        )
        assert hook["signing_secret"].startswith("whsec_")
        assert email["signing_secret"] is None
        # After creation neither the secret nor the whole URL is shown again.
        listed = (await api.get("/notification-channels")).json()["items"]
        assert {c["id"] for c in listed} == {hook["id"], slack["id"], broken["id"], email["id"]}
        shown = next(c for c in listed if c["id"] == hook["id"])
        assert "signing_secret" not in shown
        assert shown["target"].endswith("…hook")

        alert = raised("critical")
        envelope = make_event(alert, org_id=org, producer="alerter")
        await publish(servers, envelope)
        await publish(servers, envelope)  # a redelivery changes nothing

        await eventually(lambda: _true(receiver.on("/hook") and receiver.on("/slack")))
        (json_hit,) = receiver.on("/hook")
        verify_signature(json_hit, hook["signing_secret"])
        assert json_hit.headers["X-Pulse-Event"] == "alert.raised"
        document = json.loads(json_hit.body)
        assert document["alert"]["alert_id"] == str(alert.alert_id)
        assert document["alert"]["message"] == alert.message
        assert document["link"] == f"https://pulse.agency.example/campaigns/{alert.campaign_id}"

        (slack_hit,) = receiver.on("/slack")
        verify_signature(slack_hit, slack["signing_secret"])
        message = json.loads(slack_hit.body)
        assert alert.message in message["text"]
        assert message["blocks"][0]["type"] == "section"

        await eventually(lambda: _true(sink.messages))
        (mail,) = sink.messages
        assert mail["To"] == "team@agency.example"
        assert mail["Subject"].startswith("[Pulse] Critical")
        assert alert.message in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]

        async def broken_settled() -> dict[str, Any] | None:
            log = (await api.get(f"/notification-channels/{broken['id']}/deliveries")).json()[
                "items"
            ]
            return log[0] if log and log[0]["status"] == "failed" else None

        failed = await eventually(broken_settled)
        assert failed["attempts"] == 3
        assert failed["last_status_code"] == 500
        assert len(receiver.on("/broken")) == 3
        delivered = (await api.get(f"/notification-channels/{hook['id']}/deliveries")).json()[
            "items"
        ]
        assert [(d["status"], d["attempts"]) for d in delivered] == [("delivered", 1)]

        # A test delivery from the API goes through the same path.
        test = await api.post(f"/notification-channels/{hook['id']}/test")
        assert test.status_code == 202
        await eventually(lambda: _true(len(receiver.on("/hook")) == 2))
        assert receiver.on("/hook")[1].headers["X-Pulse-Event"] == "test"

        # Another organization sees none of it.
        other = f"{alerter.url}/internal/orgs/{uuid4()}/notification-channels/{hook['id']}"
        async with httpx.AsyncClient(headers={"X-Pulse-Service-Token": SERVICE_TOKEN}) as c:
            assert (await c.get(other)).status_code == 404
            assert (await c.get(f"{other}/deliveries")).status_code == 404


async def _true(value: Any) -> bool:
    return bool(value)
