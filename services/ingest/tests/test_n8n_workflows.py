"""The n8n workflows in deploy/n8n/, runs and webhook signing, end to end.

The files are checked as n8n exports (node types, the graph, header names) and against
deploy/n8n/build.py, which writes them. Then the test plays n8n: it runs the workflows' own
Code-node JavaScript under node (with n8n's `$input`, `$json`, `$env` and `$()` given), calls
the fake ScrapeCreators the way the HTTP Request node does (full response, never error), loops
over the posts one at a time with the workflow's own retry decisions, and sends exactly what
the delivery nodes send — the raw body with `Authorization: Bearer`, `X-Pulse-Run` and, when
a secret is set, `X-Pulse-Signature`; or one AMQP message per post (`x-pulse-key`,
`x-pulse-run`, no content type, not persistent) — to ingest running as a process. Then the
run is completed with the workflow's outcomes and read back. (tests/system/test_n8n.py runs
the same files in real n8n.)"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from tests.support.n8n import Tenant, create_tenant, register_post
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
NODE = shutil.which("node")
N8N_KEY = "n8n-key"  # the key "n8n" sends the fake, to tell its calls from ingest's own
RUN_TIMEOUT_S = 6
RUN_ID = "={{ $('Open a Pulse run').first().json.run_id }}"
INGEST_URL = "($env.PULSE_INGEST_URL || 'http://127.0.0.1:8001')"


def load(path: Path) -> dict[str, Any]:
    workflow: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return workflow


def node(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [n for n in workflow["nodes"] if n["name"] == name]
    return found


def to(*names: str) -> dict[str, Any]:
    return {"main": [[{"node": name, "type": "main", "index": 0}] for name in names]}


# --- 1. the files ------------------------------------------------------------------------------


def test_the_files_are_what_build_py_writes() -> None:
    spec = importlib.util.spec_from_file_location("n8n_build", N8N / "build.py")
    assert spec is not None
    assert spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for path, text in build.rendered().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"stale {path.name}: run deploy/n8n/build.py"
        )


@pytest.mark.parametrize("path", [WEBHOOK, RABBITMQ])
def test_both_triggers_open_a_run_and_each_post_is_fetched_and_retried_alone(path: Path) -> None:
    workflow = load(path)
    assert workflow["name"].startswith("Pulse: ")
    ids = set()
    for n in workflow["nodes"]:
        assert {"parameters", "name", "type", "typeVersion", "position", "id"} <= n.keys()
        assert n["type"].startswith("n8n-nodes-base.")
        ids.add(n["id"])
    assert len(ids) == len(workflow["nodes"])
    c = workflow["connections"]
    # A Manual Trigger beside the schedule: `n8n execute` and "Execute workflow" need one.
    assert node(workflow, "Every hour")["type"] == "n8n-nodes-base.scheduleTrigger"
    assert node(workflow, "Run now")["type"] == "n8n-nodes-base.manualTrigger"
    assert c["Every hour"] == c["Run now"] == to("Open a Pulse run")
    assert c["Open a Pulse run"] == to("Posts to fetch")
    assert c["Posts to fetch"] == to("One post at a time")
    # One post at a time: output 0 is "done" (the delivery), output 1 the loop.
    loop = node(workflow, "One post at a time")
    assert (loop["type"], loop["parameters"]["batchSize"]) == ("n8n-nodes-base.splitInBatches", 1)
    assert c["One post at a time"]["main"][1] == to("Count the try")["main"][0]
    assert c["Count the try"] == to("ScrapeCreators")
    assert c["ScrapeCreators"] == to("Judge the answer")
    assert c["Judge the answer"] == to("Try again?")
    assert c["Try again?"] == to("Wait before trying again", "One post at a time")
    assert c["Wait before trying again"] == to("Count the try")
    # The provider node never retries as a whole and never stops the run: the Judge decides.
    sc = node(workflow, "ScrapeCreators")
    assert "retryOnFail" not in sc
    assert sc["onError"] == "continueRegularOutput"
    p = sc["parameters"]
    assert p["options"]["response"]["response"] == {"fullResponse": True, "neverError": True}
    assert p["url"] == (
        "={{ ($env.SCRAPECREATORS_BASE_URL || 'https://api.scrapecreators.com') + $json.endpoint }}"
    )
    assert (p["method"], p["authentication"], p["genericAuthType"]) == (
        "GET",
        "genericCredentialType",
        "httpHeaderAuth",
    )
    assert "httpHeaderAuth" in sc["credentials"]
    assert p["queryParameters"]["parameters"] == [{"name": "url", "value": "={{ $json.url }}"}]
    # Every call to Pulse: PULSE_INGEST_URL or the make dev default, the ingest token.
    for name in ("Open a Pulse run", "Complete the Pulse run"):
        call = node(workflow, name)
        assert call["parameters"]["url"].startswith("={{ " + INGEST_URL)
        assert call["credentials"]["httpHeaderAuth"]["name"] == "Pulse ingest token (Bearer)"
    assert c["Run completion"] == to("Complete the Pulse run")
    complete = node(workflow, "Complete the Pulse run")
    assert complete["executeOnce"] is True
    assert complete["parameters"]["body"] == "={{ $json.completion }}"
    assert complete["parameters"]["url"].endswith("+ '/complete' }}")


def test_the_webhook_node_sends_the_run_and_the_signed_string_as_a_raw_body() -> None:
    workflow = load(WEBHOOK)
    c = workflow["connections"]
    assert c["One post at a time"]["main"][0] == to("Build and sign the ingest request")["main"][0]
    assert c["Build and sign the ingest request"] == to("POST to Pulse ingest")
    assert c["POST to Pulse ingest"] == to("Run completion")
    code = node(workflow, "Build and sign the ingest request")["parameters"]["jsCode"]
    assert "require('crypto')" in code
    assert "createHmac('sha256', secret)" in code
    assert "t + '.' + rawBody" in code
    post = node(workflow, "POST to Pulse ingest")
    p = post["parameters"]
    assert (p["method"], p["sendBody"], p["contentType"]) == ("POST", True, "raw")
    assert p["rawContentType"] == "application/json"
    assert p["body"] == "={{ $json.rawBody }}"  # the exact signed string, not re-serialized
    assert p["url"] == "={{ " + INGEST_URL + " + '/api/ingest/posts' }}"
    headers = {h["name"]: h["value"] for h in p["headerParameters"]["parameters"]}
    assert headers == {"X-Pulse-Signature": "={{ $json.signature }}", "X-Pulse-Run": RUN_ID}
    assert (p["authentication"], p["genericAuthType"]) == (
        "genericCredentialType",
        "httpHeaderAuth",
    )
    assert "httpHeaderAuth" in post["credentials"]


def test_the_rabbitmq_node_publishes_one_message_per_post_to_pulse_ingest() -> None:
    workflow = load(RABBITMQ)
    c = workflow["connections"]
    assert c["One post at a time"]["main"][0] == to("One message per post")["main"][0]
    assert c["One message per post"] == to("Publish to pulse.ingest")
    assert c["Publish to pulse.ingest"] == to("Run completion")
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
    # The body is the item alone; the outcome stays in n8n for the completion.
    assert (p["sendInputData"], p["message"]) == (False, "={{ JSON.stringify($json.message) }}")
    assert p["options"]["headers"]["header"] == [
        {"key": "x-pulse-key", "value": "={{ $env.PULSE_INGEST_TOKEN }}"},
        {"key": "x-pulse-run", "value": RUN_ID},
    ]
    assert "contentType" not in p["options"]
    assert "arguments" not in p["options"]  # no delivery mode: n8n publishes transient
    assert "rabbitmq" in publish["credentials"]


# --- playing n8n ------------------------------------------------------------------------------

HARNESS = r"""
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
if (input.now_ms !== null) { const fixed = input.now_ms; Date.now = () => fixed; }
const wrap = (list) => list.map((json) => ({ json }));
const $input = { all: () => wrap(input.inputs), first: () => ({ json: input.inputs[0] }) };
const $json = input.inputs[0];
const $env = input.env;
const $ = (name) => {
  const data = input.nodes[name];
  if (data === undefined) { throw new Error('no node ' + name); }
  return { first: () => ({ json: data[0] }), all: () => wrap(data) };
};
const $execution = { id: '1' };
const $workflow = { name: 'Pulse: played' };
const names = ['$input', '$json', '$env', '$', '$execution', '$workflow', 'require'];
const fn = new Function(...names, input.code);
let out = fn($input, $json, $env, $, $execution, $workflow, require);
if (!Array.isArray(out)) { out = [out]; }  // "Run once for each item" returns one item
process.stdout.write(JSON.stringify(out.map((o) => o.json)));
"""


def run_code(
    workflow: dict[str, Any],
    name: str,
    *,
    inputs: list[dict[str, Any]] | None = None,
    nodes: dict[str, list[dict[str, Any]]] | None = None,
    env: dict[str, str] | None = None,
    now: float | None = None,
) -> list[dict[str, Any]]:
    """A Code node's output items, run by node as n8n runs it."""
    assert NODE is not None, "node is needed to run the workflows' Code nodes"
    payload = {
        "code": node(workflow, name)["parameters"]["jsCode"],
        "inputs": inputs or [],
        "nodes": nodes or {},
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
    out: list[dict[str, Any]] = json.loads(done.stdout)
    return out


async def scrapecreators_node(client: httpx.AsyncClient, base: str, post: dict[str, Any]) -> Any:
    """What the ScrapeCreators node outputs (full response, never error, continue on fail)."""
    try:
        r = await client.get(
            base + post["endpoint"], params={"url": post["url"]}, headers={"x-api-key": N8N_KEY}
        )
    except httpx.HTTPError as exc:
        return {"error": {"message": str(exc)}}
    try:
        body = r.json()
    except ValueError:
        body = r.text
    return {"body": body, "headers": dict(r.headers), "statusCode": r.status_code}


async def fetch_all(
    workflow: dict[str, Any], fake: Any, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The loop, one post at a time: count the try, call, judge, try again or hand over. What
    the loop's "done" output holds at the end: every post, judged."""
    posts = run_code(workflow, "Posts to fetch")
    judged = []
    async with httpx.AsyncClient(timeout=10) as client:
        for post in posts:
            current = post
            while True:
                (counted,) = run_code(workflow, "Count the try", inputs=[current])
                answer = await scrapecreators_node(client, fake.url, counted)
                (verdict,) = run_code(
                    workflow,
                    "Judge the answer",
                    inputs=[answer],
                    nodes={"Count the try": [counted]},
                    env=env,
                )
                if not verdict["retry"]:
                    judged.append(verdict)
                    break
                current = verdict
    return judged


def build_request(
    judged: list[dict[str, Any]], secret: str | None = None, *, now: float | None = None
) -> dict[str, Any]:
    """The webhook workflow's request: rawBody, signature ('' without a secret), outcomes."""
    env = {"PULSE_SIGNING_SECRET": secret} if secret else {}
    (out,) = run_code(
        load(WEBHOOK), "Build and sign the ingest request", inputs=judged, env=env, now=now
    )
    return out


# --- processes and tenants ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingest(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    env = {**service_env, "PULSE_INGEST_RUN_TIMEOUT_S": str(RUN_TIMEOUT_S)}
    proc = ServiceProcess("ingest", env, LOGS)
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


@pytest.fixture
def fake(fake_provider: Any) -> Any:
    fake_provider.reset()
    return fake_provider


async def until(check: Callable[[], Awaitable[bool]], message: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.05)


@pytest.fixture
def make_tenant(bus: Bus, admin_db: asyncpg.Connection) -> Callable[[], Awaitable[Tenant]]:
    """Organizations whose tracked posts are the workflow's own example posts."""

    async def make() -> Tenant:
        sources = run_code(load(WEBHOOK), "Posts to fetch")
        assert {s["platform"] for s in sources} == {"tiktok", "instagram", "youtube", "facebook"}
        return await create_tenant(bus, admin_db, sources)

    return make


@pytest.fixture
async def tenant(make_tenant: Callable[[], Awaitable[Tenant]]) -> Tenant:
    return await make_tenant()


@dataclass
class Workflow:
    """What the workflow's calls to Pulse send, with a tenant's ingest token."""

    http: httpx.AsyncClient
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def open_run(self) -> UUID:
        response = await self.http.post(
            "/api/ingest/runs",
            json={"source": "n8n", "workflow": "Pulse: test", "execution_id": "17"},
            headers=self.auth,
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending"
        return UUID(response.json()["run_id"])

    def send(
        self, body: str | bytes, signature: str | None, run_id: UUID | None = None
    ) -> Awaitable[httpx.Response]:
        headers = {**self.auth, "Content-Type": "application/json"}
        if signature is not None:
            headers["X-Pulse-Signature"] = signature
        if run_id is not None:
            headers["X-Pulse-Run"] = str(run_id)
        content = body.encode() if isinstance(body, str) else body
        return self.http.post(ROUTE, content=content, headers=headers)

    def complete(
        self, run_id: UUID | str, outcomes: list[dict[str, Any]], execution_id: str = "17"
    ) -> Awaitable[httpx.Response]:
        return self.http.post(
            f"/api/ingest/runs/{run_id}/complete",
            json={"execution_id": execution_id, "outcomes": outcomes},
            headers=self.auth,
        )


@pytest.fixture
def n8n(http: httpx.AsyncClient, tenant: Tenant) -> Workflow:
    return Workflow(http, tenant.token)


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


async def run_detail(internal: httpx.AsyncClient, org_id: UUID, run_id: UUID) -> dict[str, Any]:
    response = await internal.get(f"/internal/orgs/{org_id}/runs/{run_id}")
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


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


# --- 3. the webhook workflow, played ---------------------------------------------------------


async def test_the_webhook_workflows_request_lands_and_forgeries_are_refused(
    n8n: Workflow,
    internal: httpx.AsyncClient,
    tenant: Tenant,
    fake: Any,
    admin_db: asyncpg.Connection,
) -> None:
    secret = (await new_secret(internal, tenant.org_id))["secret"]
    await require_signing(internal, tenant.org_id, True)
    judged = await fetch_all(load(WEBHOOK), fake)
    signed = build_request(judged, secret)
    raw_body, signature = signed["rawBody"], signed["signature"]

    # Forgeries first: nothing of them may land.
    refused(await n8n.send(raw_body, None), "signature missing")
    wrong = build_request(judged, "whsec_not-the-secret")
    refused(await n8n.send(wrong["rawBody"], wrong["signature"]), "signature mismatch")
    stale = build_request(judged, secret, now=time.time() - 301)
    refused(await n8n.send(stale["rawBody"], stale["signature"]), "timestamp too old")
    tampered = raw_body.replace('"platform":"tiktok"', '"platform":"tiktok" ', 1)
    assert tampered != raw_body
    refused(await n8n.send(tampered, signature), "signature mismatch")
    # The same items, re-serialized (what a JSON body in n8n would become), do not verify.
    reserialized = json.dumps(json.loads(raw_body), indent=1)
    refused(await n8n.send(reserialized, signature), "signature mismatch")
    assert await samples(admin_db, tenant.org_id) == []

    # The request exactly as the workflow sends it.
    response = await n8n.send(raw_body, signature)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
    stored = await samples(admin_db, tenant.org_id)
    assert {r["post_id"] for r in stored} == set(tenant.post_ids.values())
    assert {r["source"] for r in stored} == {HTTP_SOURCE}
    # A replay inside the window is harmless: the samples are idempotent.
    again = await n8n.send(raw_body, signature)
    assert again.json() == {"accepted": 0, "duplicates": 4, "rejected": []}

    # Rotation: a second secret and the first both verify until the older one is retired.
    newer = (await new_secret(internal, tenant.org_id))["secret"]
    for key in (secret, newer):
        one = build_request(judged[:1], key)
        assert (await n8n.send(one["rawBody"], one["signature"])).status_code == 200
    await internal.post(f"/internal/orgs/{tenant.org_id}/signing-secrets/retire-older")
    one = build_request(judged[:1], secret)
    refused(await n8n.send(one["rawBody"], one["signature"]), "signature mismatch")
    one = build_request(judged[:1], newer)
    assert (await n8n.send(one["rawBody"], one["signature"])).status_code == 200

    # Signing switched off: unsigned requests are accepted again (a wrong signature is not).
    await require_signing(internal, tenant.org_id, False)
    item = json.dumps({"raw": judged[0]["body"]})
    assert (await n8n.send(item, None)).status_code == 200
    refused(await n8n.send(item, "t=1,v1=00"), "timestamp too old")


async def test_without_a_secret_the_workflow_sends_unsigned_and_is_accepted(
    n8n: Workflow, tenant: Tenant, fake: Any, admin_db: asyncpg.Connection
) -> None:
    judged = await fetch_all(load(WEBHOOK), fake)
    unsigned = build_request(judged)  # no PULSE_SIGNING_SECRET in n8n's environment
    assert unsigned["signature"] == ""
    # The node sends the header empty: the same as no signature for an organization that
    # does not require one.
    response = await n8n.send(unsigned["rawBody"], unsigned["signature"])
    assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
    assert len(await samples(admin_db, tenant.org_id)) == 4


async def test_a_failing_post_is_retried_alone_reported_and_the_run_ends_partial(
    n8n: Workflow,
    internal: httpx.AsyncClient,
    tenant: Tenant,
    fake: Any,
    admin_db: asyncpg.Connection,
) -> None:
    instagram, facebook = tenant.by_platform("instagram"), tenant.by_platform("facebook")
    fake.behave(platform="instagram", mode="500")  # every call: retried, then given up
    fake.delete(facebook["url"])  # 404: charged by the provider, never retried
    judged = await fetch_all(load(WEBHOOK), fake)
    # (The workflow opens its run first; opened here, the run's time-out, short in this
    # module, cannot pass while node plays the loop on a busy machine.)
    run_id = await n8n.open_run()
    calls: dict[str, int] = {}
    for call in fake.post_calls():
        if call["api_key"] == N8N_KEY:
            calls[call["url"]] = calls.get(call["url"], 0) + 1
    assert calls == {
        tenant.by_platform("tiktok")["url"]: 1,
        tenant.by_platform("youtube")["url"]: 1,
        instagram["url"]: 3,  # its own three tries, nobody else's
        facebook["url"]: 1,
    }

    request = build_request(judged)
    answer = (await n8n.send(request["rawBody"], request["signature"], run_id)).json()
    # The failures reach Pulse as items with the provider's failure, not silence.
    assert answer["accepted"] == 2
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [
        (1, "provider_error"),
        (3, "provider_error"),
    ]
    outcomes = {o["url"]: o for o in request["outcomes"]}
    assert (outcomes[instagram["url"]]["code"], outcomes[instagram["url"]]["tries"]) == (
        "server_error",
        3,
    )
    assert outcomes[facebook["url"]]["http_status"] == 404

    # The completion exactly as the workflow sends it (built by its Code node, sent raw).
    completed = await n8n.http.post(
        f"/api/ingest/runs/{run_id}/complete",
        content=request["completion"].encode(),
        headers={**n8n.auth, "Content-Type": "application/json"},
    )
    assert completed.status_code == 200, completed.text
    run = completed.json()
    assert run["completed_now"] is True
    assert (run["status"], run["source"], run["execution_id"]) == ("partial", "n8n", "1")
    assert run["name"] == "Pulse: played"  # the workflow's name, from the completion
    assert (run["posts_ok"], run["posts_failed"]) == (2, 2)
    assert (run["accepted"], run["duplicates"], run["rejected"], run["provider_errors"]) == (
        2,
        0,
        0,
        2,
    )
    assert run["ended_at"] is not None
    assert run["rejected_outcomes"] == []

    # Each failure is the post's own pull failure, as if Pulse had called itself.
    state = {
        r["id"]: r
        for r in await admin_db.fetch(
            "SELECT id, consecutive_failures, last_error_code, deleted_seen_at "
            "FROM ingest.tracked_posts WHERE org_id = $1",
            tenant.org_id,
        )
    }
    failing = state[tenant.post_ids[instagram["url"]]]
    assert (failing["consecutive_failures"], failing["last_error_code"]) == (1, "server_error")
    deleted = state[tenant.post_ids[facebook["url"]]]
    assert deleted["last_error_code"] == "not_found"
    assert deleted["deleted_seen_at"] is not None
    assert state[tenant.post_ids[tenant.by_platform("tiktok")["url"]]]["consecutive_failures"] == 0

    detail = await run_detail(internal, tenant.org_id, run_id)
    reported = {i["url"]: i for i in detail["items"] if i["url"]}
    assert (reported[instagram["url"]]["status"], reported[instagram["url"]]["http_status"]) == (
        "failed",
        500,
    )
    assert reported[facebook["url"]]["post_id"] == str(tenant.post_ids[facebook["url"]])
    refused_items = [i for i in detail["items"] if i["kind"] == "item"]
    assert sorted(i["item_index"] for i in refused_items) == [1, 3]

    # A second completion changes nothing.
    all_ok = [{**o, "status": "ok", "code": None} for o in request["outcomes"]]
    again = (await n8n.complete(run_id, all_ok)).json()
    assert (again["completed_now"], again["status"], again["posts_ok"]) == (False, "partial", 2)


async def test_runs_are_the_organizations_own_and_outcomes_name_only_its_posts(
    n8n: Workflow,
    http: httpx.AsyncClient,
    internal: httpx.AsyncClient,
    tenant: Tenant,
    make_tenant: Callable[[], Awaitable[Tenant]],
) -> None:
    other = await make_tenant()
    intruder = Workflow(http, other.token)
    run_id = await n8n.open_run()

    unknown = await n8n.complete(uuid4(), [])
    assert unknown.status_code == 404
    assert (await intruder.complete(run_id, [])).status_code == 404
    anonymous = await http.post(f"/api/ingest/runs/{run_id}/complete", json={"outcomes": []})
    assert anonymous.status_code == 401
    listed = await internal.get(f"/internal/orgs/{other.org_id}/runs")
    assert run_id not in {UUID(r["run_id"]) for r in listed.json()["items"]}

    tiktok = tenant.by_platform("tiktok")
    foreign = other.by_platform("youtube")
    outcomes = [
        {"post_id": str(other.post_ids[foreign["url"]]), "status": "failed", "code": "x"},
        {"url": tiktok["url"], "platform": "tiktok", "status": "ok"},
        {"url": "https://www.tiktok.com/@nobody/video/1", "status": "ok"},
    ]
    completed = (await n8n.complete(run_id, outcomes)).json()
    assert [(r["index"], r["code"]) for r in completed["rejected_outcomes"]] == [
        (0, "unknown_post"),
        (2, "unknown_post"),
    ]
    assert (completed["status"], completed["posts_ok"], completed["posts_failed"]) == (
        "success",
        1,
        0,
    )
    # The other organization's post was not touched.
    untouched = await internal.get(
        f"/internal/orgs/{other.org_id}/campaigns/{other.campaign_id}/pull-status"
    )
    assert {i["consecutive_failures"] for i in untouched.json()["items"]} == {0}


async def test_a_run_nobody_completes_fails_as_timed_out(
    n8n: Workflow, internal: httpx.AsyncClient, tenant: Tenant
) -> None:
    run_id = await n8n.open_run()

    async def timed_out() -> bool:
        return (await run_detail(internal, tenant.org_id, run_id))["status"] == "failed"

    await until(timed_out, "the run never timed out", timeout=RUN_TIMEOUT_S * 3)
    detail = await run_detail(internal, tenant.org_id, run_id)
    assert detail["reason"] == "timed_out"
    assert detail["ended_at"] is not None
    late = (await n8n.complete(run_id, [])).json()
    assert (late["completed_now"], late["status"], late["reason"]) == (False, "failed", "timed_out")
    failed = await internal.get(f"/internal/orgs/{tenant.org_id}/runs?status=failed&source=n8n")
    assert [UUID(r["run_id"]) for r in failed.json()["items"]] == [run_id]


# --- 4. the RabbitMQ workflow, played --------------------------------------------------------


async def test_the_rabbitmq_workflows_messages_land_and_count_toward_the_run(
    servers: Servers,
    n8n: Workflow,
    internal: httpx.AsyncClient,
    tenant: Tenant,
    fake: Any,
    admin_db: asyncpg.Connection,
) -> None:
    # Signing applies to the webhook only: the AMQP path carries the ingest token.
    await new_secret(internal, tenant.org_id)
    await require_signing(internal, tenant.org_id, True)
    workflow = load(RABBITMQ)
    judged = await fetch_all(workflow, fake)
    run_id = await n8n.open_run()
    messages = run_code(workflow, "One message per post", inputs=judged)
    assert len(messages) == 4

    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        # What the node does before publishing: assert the exchange (topic, durable).
        exchange = await channel.declare_exchange(
            "pulse.ingest", aio_pika.ExchangeType.TOPIC, durable=True
        )
        for m in messages:
            message = aio_pika.Message(
                json.dumps(m["message"]).encode(),
                headers={"x-pulse-key": tenant.token, "x-pulse-run": str(run_id)},
            )
            assert message.content_type is None
            assert message.delivery_mode != aio_pika.DeliveryMode.PERSISTENT
            await exchange.publish(message, routing_key="ingest.posts")
    finally:
        await connection.close()

    async def counted() -> bool:
        return (await run_detail(internal, tenant.org_id, run_id))["accepted"] == 4

    await until(counted, "the RabbitMQ workflow's messages never counted toward the run")
    stored = await samples(admin_db, tenant.org_id)
    assert {r["post_id"] for r in stored} == set(tenant.post_ids.values())
    assert {r["source"] for r in stored} == {AMQP_SOURCE}
    tiktok = tenant.by_platform("tiktok")
    body = next(j["body"] for j in judged if j["url"] == tiktok["url"])
    views = next(r["views"] for r in stored if r["post_id"] == tenant.post_ids[tiktok["url"]])
    assert views == body["aweme_detail"]["statistics"]["play_count"]

    completed = (await n8n.complete(run_id, [m["outcome"] for m in messages])).json()
    assert (completed["status"], completed["posts_ok"], completed["accepted"]) == ("success", 4, 4)


# --- 5. items for posts not registered yet ---------------------------------------------------


async def test_an_item_for_a_post_registered_later_is_held_then_applied(
    n8n: Workflow,
    bus: Bus,
    internal: httpx.AsyncClient,
    tenant: Tenant,
    admin_db: asyncpg.Connection,
) -> None:
    late_url = "https://www.tiktok.com/@late/video/7433917265401856399"
    wrong_url = "https://www.tiktok.com/@late/video/7433917265401856398"
    late_id, wrong_id = uuid4(), uuid4()
    items = [
        {"url": late_url, "metrics": {"views": 1234}, "observed_at": "2026-01-01T00:00:00Z"},
        {"url": wrong_url, "platform": "instagram", "metrics": {"views": 5}},
        # The id the gateway answered with, sent before ingest heard of the post.
        {
            "post_id": str(late_id),
            "metrics": {"views": 1300},
            "observed_at": "2026-01-01T01:00:00Z",
        },
    ]
    answer = (await n8n.send(json.dumps(items), None)).json()
    assert answer["accepted"] == 0
    assert [(r["code"], r.get("held")) for r in answer["rejected"]] == [
        ("unknown_post", True),
    ] * 3
    held = (await internal.get(f"/internal/orgs/{tenant.org_id}/rejected-items")).json()["items"]
    assert [(i["code"], i["held"]) for i in held] == [("unknown_post", True)] * 3

    # The posts are registered (the gateway's event arrives after the sample did).
    await register_post(bus, tenant, late_id, "tiktok", late_url)
    await register_post(bus, tenant, wrong_id, "tiktok", wrong_url)

    async def applied() -> bool:
        stored = await samples(admin_db, tenant.org_id)
        return sorted(r["views"] for r in stored if r["post_id"] == late_id) == [1234, 1300]

    await until(applied, "the held items were never applied to the post registered later")

    # The second names the right post but the wrong platform: kept, with that new reason.
    async def rejudged() -> list[dict[str, Any]]:
        listed = await internal.get(f"/internal/orgs/{tenant.org_id}/rejected-items")
        items: list[dict[str, Any]] = listed.json()["items"]
        return items

    await until(
        lambda: _codes_are(rejudged, ["platform_mismatch"]), "the held item was not re-judged"
    )
    (kept,) = await rejudged()
    assert kept["held"] is False
    assert kept["raw"]["platform"] == "instagram"

    # An operator's replay of an item still invalid keeps it, with its reason.
    replay = await internal.post(
        f"/internal/orgs/{tenant.org_id}/rejected-items/replay", json={"ids": [kept["id"]]}
    )
    assert replay.status_code == 200, replay.text
    assert replay.json()["applied"] == []
    assert [r["code"] for r in replay.json()["still_rejected"]] == ["platform_mismatch"]
    by_code = await internal.get(
        f"/internal/orgs/{tenant.org_id}/rejected-items?code=platform_mismatch"
    )
    assert [i["id"] for i in by_code.json()["items"]] == [kept["id"]]


async def _codes_are(read: Callable[[], Awaitable[list[dict[str, Any]]]], codes: list[str]) -> bool:
    return [i["code"] for i in await read()] == codes
