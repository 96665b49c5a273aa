"""The n8n workflows in deploy/n8n/ and webhook signing, end to end.

The files are checked as n8n exports (node types, the connection chain, header names). Then
the test plays n8n: it runs the workflows' own Code-node JavaScript (under node, with n8n's
`$input`, `$env` and `$()` stubbed; a Python replica of the same steps when node is missing),
calls the fake ScrapeCreators the way the HTTP Request node does, and sends exactly what the
last node sends — the signed raw body with `Authorization: Bearer` and `X-Pulse-Signature`, or
one AMQP message per item (body only, `x-pulse-key` header, no content type, not persistent)
— to ingest running as a process, and sees the samples land. Wrong secret, stale timestamp
and a modified body are refused; so is a missing signature once signing is required."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from pulse_contracts.catalog import (
    ApiTokenUpserted,
    BookingUpserted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
)
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration

LOGS = ROOT / "test-artifacts" / "logs"
N8N = ROOT / "deploy" / "n8n"
WEBHOOK = N8N / "scrapecreators-to-webhook.json"
RABBITMQ = N8N / "scrapecreators-to-rabbitmq.json"
ROUTE = "/api/ingest/posts"
HTTP_SOURCE, AMQP_SOURCE = 1, 2
NODE = None if os.environ.get("PULSE_TEST_NO_NODE") else shutil.which("node")
CHAIN_WEBHOOK = [
    "Every hour",
    "Posts to fetch",
    "ScrapeCreators",
    "Build and sign the ingest request",
    "POST to Pulse ingest",
]
CHAIN_RABBITMQ = [
    "Every hour",
    "Posts to fetch",
    "ScrapeCreators",
    "One message per post",
    "Publish to pulse.ingest",
]


def load(path: Path) -> dict[str, Any]:
    workflow: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return workflow


def node(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [n for n in workflow["nodes"] if n["name"] == name]
    return found


# --- 1. the files ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "chain"), [(WEBHOOK, CHAIN_WEBHOOK), (RABBITMQ, CHAIN_RABBITMQ)])
def test_workflow_files_are_n8n_exports_with_one_chain(path: Path, chain: list[str]) -> None:
    workflow = load(path)
    assert {"name", "nodes", "connections", "settings"} <= workflow.keys()
    assert workflow["name"].startswith("Pulse: ")
    ids = set()
    for n in workflow["nodes"]:
        assert {"parameters", "name", "type", "typeVersion", "position", "id"} <= n.keys()
        assert n["type"].startswith("n8n-nodes-base.")
        assert isinstance(n["typeVersion"], int | float)
        assert len(n["position"]) == 2
        ids.add(n["id"])
    assert len(ids) == len(workflow["nodes"])
    assert [n["name"] for n in workflow["nodes"]] == chain
    # Each node feeds exactly the next one: Schedule → Code → HTTP → Code → delivery.
    connections = workflow["connections"]
    assert set(connections) == set(chain[:-1])
    for source, target in itertools.pairwise(chain):
        assert connections[source] == {"main": [[{"node": target, "type": "main", "index": 0}]]}
    types = [node(workflow, name)["type"] for name in chain]
    assert types[:4] == [
        "n8n-nodes-base.scheduleTrigger",
        "n8n-nodes-base.code",
        "n8n-nodes-base.httpRequest",
        "n8n-nodes-base.code",
    ]
    # ScrapeCreators: the post endpoint with ?url=, the key from a Header Auth credential.
    sc = node(workflow, "ScrapeCreators")
    assert sc["parameters"]["method"] == "GET"
    assert "https://api.scrapecreators.com" in sc["parameters"]["url"]
    assert sc["parameters"]["authentication"] == "genericCredentialType"
    assert sc["parameters"]["genericAuthType"] == "httpHeaderAuth"
    assert "httpHeaderAuth" in sc["credentials"]
    assert sc["parameters"]["queryParameters"]["parameters"] == [
        {"name": "url", "value": "={{ $json.url }}"}
    ]


def test_the_webhook_node_sends_the_signed_string_as_a_raw_body() -> None:
    workflow = load(WEBHOOK)
    sign = node(workflow, "Build and sign the ingest request")
    code = sign["parameters"]["jsCode"]
    assert "require('crypto')" in code
    assert "createHmac('sha256', secret)" in code
    assert "t + '.' + rawBody" in code
    post = node(workflow, "POST to Pulse ingest")
    p = post["parameters"]
    assert post["type"] == "n8n-nodes-base.httpRequest"
    assert (p["method"], p["sendBody"], p["contentType"]) == ("POST", True, "raw")
    assert p["rawContentType"] == "application/json"
    assert p["body"] == "={{ $json.rawBody }}"  # the exact signed string, not re-serialized
    assert p["url"].endswith("'/api/ingest/posts' }}")
    headers = {h["name"]: h["value"] for h in p["headerParameters"]["parameters"]}
    assert headers == {"X-Pulse-Signature": "={{ $json.signature }}"}
    # Authorization: Bearer <ingest token> comes from a Header Auth credential.
    assert p["authentication"] == "genericCredentialType"
    assert p["genericAuthType"] == "httpHeaderAuth"
    assert "httpHeaderAuth" in post["credentials"]


def test_the_rabbitmq_node_publishes_each_item_to_pulse_ingest() -> None:
    workflow = load(RABBITMQ)
    publish = node(workflow, "Publish to pulse.ingest")
    assert publish["type"] == "n8n-nodes-base.rabbitmq"
    p = publish["parameters"]
    assert (p["operation"], p["mode"]) == ("sendMessage", "exchange")
    # The node asserts the exchange before publishing: type and durability must match ours.
    assert (p["exchange"], p["exchangeType"], p["routingKey"]) == (
        "pulse.ingest",
        "topic",
        "ingest.posts",
    )
    assert p["options"]["durable"] is True
    assert p["sendInputData"] is True  # body = JSON.stringify(item), one message per item
    assert p["options"]["headers"]["header"] == [
        {"key": "x-pulse-key", "value": "={{ $env.PULSE_INGEST_TOKEN }}"}
    ]
    assert "contentType" not in p["options"]
    assert "arguments" not in p["options"]  # no delivery mode: n8n publishes transient
    assert "rabbitmq" in publish["credentials"]


# --- playing n8n ------------------------------------------------------------------------------

HARNESS = r"""
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
if (input.now_ms !== null) { const fixed = input.now_ms; Date.now = () => fixed; }
const $input = { all: () => input.inputs.map((json) => ({ json })) };
const $env = input.env;
const $ = (name) => {
  if (name !== 'Posts to fetch') { throw new Error('no node ' + name); }
  return { itemMatching: (i) => ({ json: input.sources[i] }) };
};
const out = new Function('$input', '$env', '$', 'require', input.code)($input, $env, $, require);
process.stdout.write(JSON.stringify({ out, bodies: out.map((o) => JSON.stringify(o.json)) }));
"""


def run_code(
    code: str,
    *,
    inputs: list[dict[str, Any]] | None = None,
    sources: list[dict[str, Any]] | None = None,
    env: dict[str, str] | None = None,
    now: float | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """A Code node's output items, and each item's JSON.stringify (what the RabbitMQ node sends)."""
    assert NODE is not None
    payload = {
        "code": code,
        "inputs": inputs or [],
        "sources": sources or [],
        "env": env or {},
        "now_ms": None if now is None else int(now * 1000),
    }
    done = subprocess.run(
        [NODE, "-e", HARNESS],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result = json.loads(done.stdout)
    return [o["json"] for o in result["out"]], result["bodies"]


def _stringify(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def posts_to_fetch(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    code = node(workflow, "Posts to fetch")["parameters"]["jsCode"]
    if NODE:
        return run_code(code)[0]
    # Python replica of the node: the list literal and the endpoint table.
    endpoints = {
        "tiktok": "/v2/tiktok/video",
        "instagram": "/v1/instagram/post",
        "youtube": "/v1/youtube/video",
        "facebook": "/v1/facebook/post",
    }
    import re

    found = re.findall(r"\{ platform: '(\w+)', url: '([^']+)' \}", code)
    return [{"platform": p, "url": u, "endpoint": endpoints[p]} for p, u in found]


def sign_request(
    workflow: dict[str, Any],
    responses: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    secret: str,
    *,
    now: float | None = None,
) -> tuple[str, str]:
    """(raw body, X-Pulse-Signature) exactly as the signing Code node produces them."""
    code = node(workflow, "Build and sign the ingest request")["parameters"]["jsCode"]
    if NODE:
        (out,), _ = run_code(
            code,
            inputs=responses,
            sources=sources,
            env={"PULSE_SIGNING_SECRET": secret},
            now=now,
        )
        return out["rawBody"], out["signature"]
    observed = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    items = [
        {"platform": s["platform"], "url": s["url"], "observed_at": observed, "raw": r}
        for r, s in zip(responses, sources, strict=True)
    ]
    raw = _stringify({"items": items})
    t = int(now if now is not None else time.time())
    digest = hmac.new(secret.encode(), f"{t}.{raw}".encode(), hashlib.sha256).hexdigest()
    return raw, f"t={t},v1={digest}"


def amqp_bodies(
    workflow: dict[str, Any], responses: list[dict[str, Any]], sources: list[dict[str, Any]]
) -> list[str]:
    code = node(workflow, "One message per post")["parameters"]["jsCode"]
    if NODE:
        return run_code(code, inputs=responses, sources=sources)[1]
    observed = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        _stringify({"platform": s["platform"], "url": s["url"], "observed_at": observed, "raw": r})
        for r, s in zip(responses, sources, strict=True)
    ]


async def scrapecreators(fake: Any, sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the ScrapeCreators HTTP Request node outputs: one response body per post."""
    async with httpx.AsyncClient(base_url=fake.url, timeout=10) as client:
        bodies = []
        for s in sources:
            response = await client.get(
                s["endpoint"], params={"url": s["url"]}, headers={"x-api-key": "n8n-key"}
            )
            response.raise_for_status()
            bodies.append(response.json())
    return bodies


# --- processes and a tenant --------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingest(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("ingest", service_env, LOGS)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
async def bus(servers: Servers, ingest: ServiceProcess) -> AsyncIterator[Bus]:
    async with Bus(servers.amqp_url) as connected:
        yield connected


@pytest.fixture
async def internal(ingest: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=ingest.url, headers={"X-Pulse-Service-Token": "test-service-token"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def http(ingest: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=ingest.url, timeout=10) as client:
        yield client


@dataclass
class Tenant:
    org_id: UUID
    token: str
    sources: list[dict[str, Any]]
    post_ids: dict[str, UUID]


async def until(check: Callable[[], Awaitable[bool]], message: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.05)


@pytest.fixture
async def tenant(bus: Bus, admin_db: asyncpg.Connection) -> Tenant:
    """An organization whose tracked posts are the workflow's own example posts."""
    sources = posts_to_fetch(load(WEBHOOK))
    assert {s["platform"] for s in sources} == {"tiktok", "instagram", "youtube", "facebook"}
    stamp = utcnow() - timedelta(days=1)
    org_id, campaign_id, booking_id = uuid4(), uuid4(), uuid4()
    token = f"pulse_ingest_{uuid4().hex}"
    post_ids = {s["url"]: uuid4() for s in sources}
    events = [
        OrganizationUpserted(id=org_id, name="n8n agency", updated_at=stamp),
        ApiTokenUpserted(
            id=uuid4(),
            org_id=org_id,
            name="n8n",
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            scopes=["ingest"],
            updated_at=stamp,
        ),
        CampaignUpserted(
            id=campaign_id,
            client_id=uuid4(),
            name="Webhook week",
            status="live",
            start_date=date.today() - timedelta(days=3),
            end_date=date.today() + timedelta(days=10),
            updated_at=stamp,
        ),
        BookingUpserted(
            id=booking_id,
            campaign_id=campaign_id,
            influencer_id=uuid4(),
            fee_cents=1000,
            updated_at=stamp,
        ),
        *[
            PostRegistered(
                id=post_ids[s["url"]],
                booking_id=booking_id,
                campaign_id=campaign_id,
                platform=s["platform"],
                url=s["url"],
                registered_at=stamp,
            )
            for s in sources
        ],
    ]
    for event in events:
        await bus.publish_event(org_id, event)

    async def learned() -> bool:
        posts = await admin_db.fetchval(
            "SELECT count(*) FROM ingest.tracked_posts WHERE org_id = $1", org_id
        )
        tokens = await admin_db.fetchval(
            "SELECT count(*) FROM ingest.api_tokens WHERE org_id = $1", org_id
        )
        return bool(posts == len(sources) and tokens == 1)

    await until(learned, "ingest never learned the organization")
    return Tenant(org_id, token, sources, post_ids)


async def samples(db: asyncpg.Connection, org_id: UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT p.id AS post_id, s.source, s.views FROM ingest.samples s "
            "JOIN ingest.tracked_posts p ON p.key = s.post_key WHERE p.org_id = $1",
            org_id,
        )
    )


async def new_secret(internal: httpx.AsyncClient, org_id: UUID) -> dict[str, Any]:
    response = await internal.post(f"/internal/orgs/{org_id}/signing-secrets")
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def require_signing(internal: httpx.AsyncClient, org_id: UUID, required: bool) -> None:
    response = await internal.put(f"/internal/orgs/{org_id}/signing", json={"required": required})
    assert response.status_code == 200, response.text


def refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert error["message"].startswith(reason), error["message"]
    assert error["details"] == [{"reason": reason}]


# --- 2. the signing secret routes --------------------------------------------------------------


async def test_signing_secrets_are_shown_once_rotated_and_retired(
    internal: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    org = tenant.org_id
    # Signing cannot be required before a secret exists.
    response = await internal.put(f"/internal/orgs/{org}/signing", json={"required": True})
    assert response.status_code == 409

    first = await new_secret(internal, org)
    assert first["secret"].startswith("whsec_")
    assert first["active_secrets"] == 1
    listed = (await internal.get(f"/internal/orgs/{org}/signing-secrets")).json()
    assert listed["signing_required"] is False
    assert [(i["id"], i["hint"], i["active"]) for i in listed["items"]] == [
        (first["id"], first["secret"][-4:], True)
    ]
    assert first["secret"] not in json.dumps(listed)
    # Only ingest holds it, and not in the clear.
    stored = await admin_db.fetchval(
        "SELECT sealed FROM ingest.signing_secrets WHERE id = $1", UUID(first["id"])
    )
    assert first["secret"].encode() not in bytes(stored)

    second = await new_secret(internal, org)
    assert second["active_secrets"] == 2
    third = await internal.post(f"/internal/orgs/{org}/signing-secrets")
    assert third.status_code == 409, "at most two active secrets"

    retired = (await internal.post(f"/internal/orgs/{org}/signing-secrets/retire-older")).json()
    assert retired == {"retired": first["id"], "active_secrets": 1}
    await require_signing(internal, org, True)
    # The last active secret of an organization that requires signing cannot go.
    last = await internal.delete(f"/internal/orgs/{org}/signing-secrets/{second['id']}")
    assert last.status_code == 409
    listed = (await internal.get(f"/internal/orgs/{org}/signing-secrets")).json()
    assert listed["signing_required"] is True
    assert {i["id"]: i["active"] for i in listed["items"]} == {
        first["id"]: False,
        second["id"]: True,
    }
    anonymous = await internal.post(
        f"/internal/orgs/{org}/signing-secrets", headers={"X-Pulse-Service-Token": "nope"}
    )
    assert anonymous.status_code == 401


# --- 3. the webhook workflow, replayed ---------------------------------------------------------


async def test_the_webhook_workflows_request_lands_and_forgeries_are_refused(
    http: httpx.AsyncClient,
    internal: httpx.AsyncClient,
    tenant: Tenant,
    fake_provider: Any,
    admin_db: asyncpg.Connection,
) -> None:
    workflow = load(WEBHOOK)
    secret = (await new_secret(internal, tenant.org_id))["secret"]
    await require_signing(internal, tenant.org_id, True)
    responses = await scrapecreators(fake_provider, tenant.sources)
    raw_body, signature = sign_request(workflow, responses, tenant.sources, secret)

    def send(body: str | bytes, signature: str | None) -> Awaitable[httpx.Response]:
        headers = {"Authorization": f"Bearer {tenant.token}", "Content-Type": "application/json"}
        if signature is not None:
            headers["X-Pulse-Signature"] = signature
        content = body.encode() if isinstance(body, str) else body
        return http.post(ROUTE, content=content, headers=headers)

    # Forgeries first: nothing of them may land.
    refused(await send(raw_body, None), "signature missing")
    wrong_body, wrong_signature = sign_request(
        workflow, responses, tenant.sources, "whsec_not-the-secret"
    )
    refused(await send(wrong_body, wrong_signature), "signature mismatch")
    stale_body, stale_signature = sign_request(
        workflow, responses, tenant.sources, secret, now=time.time() - 301
    )
    refused(await send(stale_body, stale_signature), "timestamp too old")
    tampered = raw_body.replace('"platform":"tiktok"', '"platform":"tiktok" ', 1)
    assert tampered != raw_body
    refused(await send(tampered, signature), "signature mismatch")
    # The same items, re-serialized (what a JSON body in n8n would become), do not verify.
    reserialized = json.dumps(json.loads(raw_body), indent=1)
    refused(await send(reserialized, signature), "signature mismatch")
    assert await samples(admin_db, tenant.org_id) == []

    # The request exactly as the workflow sends it.
    response = await send(raw_body, signature)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
    stored = await samples(admin_db, tenant.org_id)
    assert {r["post_id"] for r in stored} == set(tenant.post_ids.values())
    assert {r["source"] for r in stored} == {HTTP_SOURCE}
    # A replay inside the window is harmless: the samples are idempotent.
    again = await send(raw_body, signature)
    assert again.json() == {"accepted": 0, "duplicates": 4, "rejected": []}

    # Rotation: a second secret and the first both verify until the older one is retired.
    newer = (await new_secret(internal, tenant.org_id))["secret"]
    for key in (secret, newer):
        body, sig = sign_request(workflow, responses[:1], tenant.sources[:1], key)
        assert (await send(body, sig)).status_code == 200
    await internal.post(f"/internal/orgs/{tenant.org_id}/signing-secrets/retire-older")
    body, sig = sign_request(workflow, responses[:1], tenant.sources[:1], secret)
    refused(await send(body, sig), "signature mismatch")
    body, sig = sign_request(workflow, responses[:1], tenant.sources[:1], newer)
    assert (await send(body, sig)).status_code == 200

    # Signing switched off: unsigned requests are accepted again (a wrong signature is not).
    await require_signing(internal, tenant.org_id, False)
    item = json.dumps({"raw": responses[0]})
    assert (await send(item, None)).status_code == 200
    refused(await send(item, "t=1,v1=00"), "timestamp too old")


async def test_an_organization_without_signing_is_not_asked_for_a_signature(
    http: httpx.AsyncClient, tenant: Tenant, fake_provider: Any
) -> None:
    (response_body,) = await scrapecreators(fake_provider, tenant.sources[:1])
    response = await http.post(
        ROUTE, json={"raw": response_body}, headers={"Authorization": f"Bearer {tenant.token}"}
    )
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}


# --- 4. the RabbitMQ workflow, replayed --------------------------------------------------------


async def test_the_rabbitmq_workflows_messages_land(
    servers: Servers,
    internal: httpx.AsyncClient,
    tenant: Tenant,
    fake_provider: Any,
    admin_db: asyncpg.Connection,
) -> None:
    # Signing applies to the webhook only: the AMQP path carries the ingest token.
    await new_secret(internal, tenant.org_id)
    await require_signing(internal, tenant.org_id, True)
    responses = await scrapecreators(fake_provider, tenant.sources)
    bodies = amqp_bodies(load(RABBITMQ), responses, tenant.sources)
    assert len(bodies) == 4

    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        # What the node does before publishing: assert the exchange (topic, durable).
        exchange = await channel.declare_exchange(
            "pulse.ingest", aio_pika.ExchangeType.TOPIC, durable=True
        )
        for body in bodies:
            message = aio_pika.Message(body.encode(), headers={"x-pulse-key": tenant.token})
            assert message.content_type is None
            assert message.delivery_mode != aio_pika.DeliveryMode.PERSISTENT
            await exchange.publish(message, routing_key="ingest.posts")
    finally:
        await connection.close()

    async def landed() -> bool:
        return len(await samples(admin_db, tenant.org_id)) == 4

    await until(landed, "the RabbitMQ workflow's messages never became samples")
    stored = await samples(admin_db, tenant.org_id)
    assert {r["post_id"] for r in stored} == set(tenant.post_ids.values())
    assert {r["source"] for r in stored} == {AMQP_SOURCE}
    by_url = {s["url"]: r for s, r in zip(tenant.sources, responses, strict=True)}
    tiktok = next(s for s in tenant.sources if s["platform"] == "tiktok")
    views = next(r["views"] for r in stored if r["post_id"] == tenant.post_ids[tiktok["url"]])
    assert views == by_url[tiktok["url"]]["aweme_detail"]["statistics"]["play_count"]
