"""Notification channels through the gateway, with the alerter sending for real: a test message
reaches a webhook receiver signed with the channel's secret, a receiver that keeps failing
ends as `failed` in the delivery log, and roles and organizations are respected."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.support.agency import PASSWORD, create_org
from tests.support.services import ROOT, ServiceProcess, free_port

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"


class Receiver:
    """A webhook receiver on a free port: /ok answers 200, anything else 503."""

    def __init__(self) -> None:
        self.port = free_port()
        self.seen: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.seen.append((self.path, dict(self.headers.items()), body))
                self.send_response(200 if self.path == "/ok" else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture(scope="module")
def gateway(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    alerter = ServiceProcess(
        "alerter",
        {
            **service_env,
            "PULSE_ALERTER_NOTIFY_BACKOFF_BASE_S": "0.05",
            "PULSE_ALERTER_NOTIFY_BACKOFF_MAX_S": "0.1",
            "PULSE_ALERTER_NOTIFY_MAX_ATTEMPTS": "2",
        },
        LOGS,
    )
    alerter.start()
    proc = ServiceProcess(
        "gateway", {**service_env, "PULSE_GATEWAY_ALERTER_URL": alerter.url}, LOGS
    )
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        alerter.stop()


async def _login(url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=15)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


@pytest.fixture
async def callers(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    owner_email, stranger_email = (f"{w}-{uuid4().hex[:8]}@notify.agency" for w in "ab")
    create_org(service_env, "Notify Talent", owner_email, test=True)
    create_org(service_env, "Rival Talent", stranger_email, test=True)
    owner = await _login(gateway.url, owner_email)
    analyst_email = f"analyst-{uuid4().hex[:8]}@notify.agency"
    made = await owner.post(
        "/api/users", json={"email": analyst_email, "role": "analyst", "password": PASSWORD}
    )
    assert made.status_code == 201, made.text
    found = {
        "owner": owner,
        "analyst": await _login(gateway.url, analyst_email),
        "stranger": await _login(gateway.url, stranger_email),
    }
    yield found
    for client in found.values():
        await client.aclose()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def test_channels_test_deliveries_and_the_delivery_log(
    callers: dict[str, httpx.AsyncClient], receiver: Receiver
) -> None:
    owner, analyst, stranger = callers["owner"], callers["analyst"], callers["stranger"]
    base = "/api/notification-channels"
    created = await owner.post(
        base,
        json={
            "kind": "webhook",
            "name": "#campaign-alerts",
            "target": receiver.url("/ok"),
            "format": "slack",
            "min_severity": "warning",
        },
    )
    assert created.status_code == 201, created.text
    channel = created.json()
    secret = channel["signing_secret"]
    assert secret.startswith("whsec_")
    assert channel["target"] == receiver.url("/ok")

    # Shown once: afterwards neither the secret nor the whole URL comes back.
    listed = await analyst.get(base)
    assert listed.status_code == 200, listed.text
    (shown,) = listed.json()["items"]
    assert "signing_secret" not in shown
    assert shown["target"] == f"http://127.0.0.1:{receiver.port}/…{receiver.url('/ok')[-4:]}"
    assert secret not in json.dumps(listed.json())

    # Analysts read; only managers and owners change or test channels.
    assert (await analyst.post(base, json={**shown, "kind": "email"})).status_code == 403
    assert (await analyst.post(f"{base}/{channel['id']}/test")).status_code == 403
    assert (await analyst.delete(f"{base}/{channel['id']}")).status_code == 403

    sent = await owner.post(f"{base}/{channel['id']}/test")
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "pending"

    async def delivered() -> dict[str, Any] | None:
        log = (await analyst.get(f"{base}/{channel['id']}/deliveries")).json()["items"]
        return log[0] if log and log[0]["status"] == "delivered" else None

    entry = await eventually(delivered)
    assert entry["attempts"] == 1
    assert entry["last_status_code"] == 200
    _path, headers, body = next(s for s in receiver.seen if s[0] == "/ok")
    t, v1 = (part.split("=", 1)[1] for part in headers["X-Pulse-Signature"].split(","))
    assert hmac.compare_digest(
        v1, hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    )
    slack = json.loads(body)
    assert "Test notification" in slack["text"]
    assert slack["blocks"]

    # Pointed at a receiver that keeps failing, the retries run out and the log says failed.
    moved = await owner.patch(
        f"{base}/{channel['id']}", json={"target": receiver.url("/down"), "enabled": False}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["enabled"] is False
    await owner.post(f"{base}/{channel['id']}/test")

    async def failed() -> dict[str, Any] | None:
        log = (await owner.get(f"{base}/{channel['id']}/deliveries")).json()["items"]
        return log[0] if log and log[0]["status"] == "failed" else None

    entry = await eventually(failed)
    assert entry["attempts"] == 2
    assert entry["last_status_code"] == 503
    assert entry["last_error"].startswith("HTTP 503")
    assert len([s for s in receiver.seen if s[0] == "/down"]) == 2
    page = (await owner.get(f"{base}/{channel['id']}/deliveries", params={"limit": 1})).json()
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    rest = await owner.get(
        f"{base}/{channel['id']}/deliveries", params={"limit": 1, "cursor": page["next_cursor"]}
    )
    assert rest.json()["items"][0]["status"] == "delivered"

    # A bad target names the field; another organization's channel does not exist.
    bad = await owner.post(base, json={"kind": "email", "name": "x", "target": "nobody"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["path"] == "body.target"
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, Any] = {"json": {"name": "mine"}} if method == "PATCH" else {}
        answer = await stranger.request(method, f"{base}/{channel['id']}", **kwargs)
        assert answer.status_code == 404, (method, answer.text)
    assert (await stranger.get(f"{base}/{channel['id']}/deliveries")).status_code == 404
    assert (await stranger.get(base)).json()["items"] == []

    assert (await owner.delete(f"{base}/{channel['id']}")).status_code == 204
    assert (await owner.get(f"{base}/{channel['id']}")).status_code == 404
