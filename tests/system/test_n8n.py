"""The shipped n8n workflows in real n8n (issue 13): installed from npm (cached in
~/.cache/pulse/n8n), the files of deploy/n8n imported unchanged, run headless (`n8n execute`,
the Manual Trigger) against ingest running as a process and the fake ScrapeCreators. One n8n
home serves every assertion, so n8n starts only a few times.

- The webhook workflow, with one post answering 500 every time and one deleted (404): the
  others' samples arrive; the run ends `partial`; the failing post's error is recorded against
  it; no post is fetched more often than its own tries (the 500 post three times, the others
  once).
- The RabbitMQ workflow, everything answering: the samples arrive over AMQP and the run ends
  `success`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
import httpx
import pytest

from tests.support.n8n import Tenant, create_tenant
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess, fake_provider_process

pytestmark = pytest.mark.system

LOGS = ROOT / "test-artifacts" / "logs"
N8N_VERSION = "1.123.81"
# Outside the checkout, so a fresh clone on the same machine (CI) reuses the install: npm
# takes minutes for n8n's ~1,900 packages. PULSE_N8N_CACHE moves it.
N8N_CACHE = Path(os.environ.get("PULSE_N8N_CACHE") or Path.home() / ".cache" / "pulse" / "n8n")
N8N_HOME = N8N_CACHE / N8N_VERSION
N8N_BIN = N8N_HOME / "node_modules" / ".bin" / "n8n"
WORKFLOWS = {
    "webhook": ROOT / "deploy" / "n8n" / "scrapecreators-to-webhook.json",
    "rabbitmq": ROOT / "deploy" / "n8n" / "scrapecreators-to-rabbitmq.json",
}
N8N_KEY = "n8n-test-key"
INSTALL_TIMEOUT_S = 1800


def ensure_n8n() -> Path:
    """n8n from npm, installed once into the cache (N8N_CACHE/<version>) and reused by every
    later run, of this checkout or another."""
    if N8N_BIN.exists():
        return N8N_BIN
    npm = shutil.which("npm")
    assert npm, "npm is needed to install n8n for this test"
    N8N_HOME.mkdir(parents=True, exist_ok=True)
    # n8n pins xlsx (its Spreadsheet node only) to a tarball on cdn.sheetjs.com, which closed
    # networks cannot reach: the registry's last xlsx stands in, so one registry is enough. And
    # isolated-vm 6 (expression sandbox) builds only on Node 22; 5.0 builds on Node 20 too.
    manifest = {
        "name": "pulse-n8n-test",
        "private": True,
        "dependencies": {"n8n": N8N_VERSION},
        "overrides": {"xlsx": "0.18.5", "isolated-vm": "5.0.4"},
    }
    (N8N_HOME / "package.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    subprocess.run(
        [npm, "install", "--prefix", str(N8N_HOME), "--no-audit", "--no-fund"],
        check=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    return N8N_BIN


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, httpx.Client]]:
    with fake_provider_process(LOGS) as found:
        yield found


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


def posts_of_the_workflow() -> list[dict[str, Any]]:
    """The example posts in the shipped workflow's "Posts to fetch" node (read, not edited)."""
    workflow = json.loads(WORKFLOWS["webhook"].read_text(encoding="utf-8"))
    (code,) = [
        n["parameters"]["jsCode"] for n in workflow["nodes"] if n["name"] == "Posts to fetch"
    ]
    node = shutil.which("node")
    assert node
    out = subprocess.run(
        [node, "-e", f"process.stdout.write(JSON.stringify((() => {{ {code} }})()))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [item["json"] for item in json.loads(out.stdout)]


class N8n:
    """One n8n home (SQLite) with the test's credentials and the shipped workflows imported."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.bin = ensure_n8n()
        self.home = home
        self.env = env
        self.ids: dict[str, str] = {}

    def run(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [str(self.bin), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        log = LOGS / "n8n.log"
        with log.open("a", encoding="utf-8") as f:
            f.write(f"$ n8n {' '.join(args)}\n{done.stdout}\n{done.stderr}\n")
        assert done.returncode == 0, f"n8n {args[0]} failed ({done.returncode}); see {log}"
        return done.stdout

    def setup(self, credentials: list[dict[str, Any]]) -> None:
        path = self.home / "credentials.json"
        path.write_text(json.dumps(credentials), encoding="utf-8")
        self.run("import:credentials", f"--input={path}")
        for key, file in WORKFLOWS.items():
            self.run("import:workflow", f"--input={file}")  # the file as shipped
            name = json.loads(file.read_text(encoding="utf-8"))["name"]
            listed = self.run("list:workflow")
            ids = [line.split("|", 1)[0] for line in listed.splitlines() if line.endswith(name)]
            assert ids, f"{name} was not imported:\n{listed}"
            self.ids[key] = ids[-1]

    def execute(self, key: str) -> str:
        return self.run("execute", f"--id={self.ids[key]}")


def rabbitmq_credential(amqp_url: str) -> dict[str, Any]:
    url = urlsplit(amqp_url)
    return {
        "hostname": url.hostname,
        "port": url.port or 5672,
        "username": unquote(url.username or "guest"),
        "password": unquote(url.password or "guest"),
        "vhost": unquote(url.path[1:]) or "/",
        "ssl": False,
    }


@pytest.fixture(scope="module")
def n8n(
    tmp_path_factory: pytest.TempPathFactory,
    servers: Servers,
    ingest: ServiceProcess,
    fake: tuple[str, httpx.Client],
) -> N8n:
    home = tmp_path_factory.mktemp("n8n-home")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "N8N_USER_FOLDER": str(home),
        "N8N_ENCRYPTION_KEY": "pulse-test-encryption-key",
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false",
        "NODE_FUNCTION_ALLOW_BUILTIN": "crypto",
        # The workflows' environment, as docs/n8n.md lists it.
        "PULSE_INGEST_URL": ingest.url,
        "SCRAPECREATORS_BASE_URL": fake[0],
        "PULSE_RETRY_WAIT_S": "0.2",
    }
    return N8n(home, env)


async def runs_of(ingest: ServiceProcess, org_id: Any) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(
        base_url=ingest.url, headers={"X-Pulse-Service-Token": "test-service-token"}
    ) as client:
        listed = (await client.get(f"/internal/orgs/{org_id}/runs?source=n8n")).json()["items"]
        return [
            (await client.get(f"/internal/orgs/{org_id}/runs/{r['run_id']}")).json() for r in listed
        ]


async def sources_of(db: asyncpg.Connection, t: Tenant) -> dict[str, set[int]]:
    rows = await db.fetch(
        "SELECT p.url, s.source FROM ingest.samples s JOIN ingest.tracked_posts p "
        "ON p.key = s.post_key WHERE p.org_id = $1",
        t.org_id,
    )
    found: dict[str, set[int]] = {}
    for r in rows:
        found.setdefault(r["url"], set()).add(r["source"])
    return found


async def test_the_shipped_workflows_in_real_n8n(
    n8n: N8n,
    bus: Bus,
    servers: Servers,
    ingest: ServiceProcess,
    fake: tuple[str, httpx.Client],
    admin_db: asyncpg.Connection,
) -> None:
    _, control = fake
    t = await create_tenant(bus, admin_db, posts_of_the_workflow())
    n8n.env["PULSE_INGEST_TOKEN"] = t.token  # the RabbitMQ node's header
    n8n.setup(
        [
            {
                "id": "scrapecreators-api-key",
                "name": "ScrapeCreators API key",
                "type": "httpHeaderAuth",
                "data": {"name": "x-api-key", "value": N8N_KEY},
            },
            {
                "id": "pulse-ingest-token",
                "name": "Pulse ingest token (Bearer)",
                "type": "httpHeaderAuth",
                "data": {"name": "Authorization", "value": f"Bearer {t.token}"},
            },
            {
                "id": "pulse-rabbitmq-n8n",
                "name": "Pulse RabbitMQ (n8n)",
                "type": "rabbitmq",
                "data": rabbitmq_credential(servers.amqp_url),
            },
        ]
    )

    # 1. The webhook workflow: one post failing with 500 every time, one deleted.
    instagram, facebook = t.by_platform("instagram"), t.by_platform("facebook")
    control.post("/_control/reset").raise_for_status()
    control.post("/_control/behaviour", json={"platform": "instagram", "mode": "500"})
    control.post("/_control/deleted", json={"url": facebook["url"]}).raise_for_status()
    n8n.execute("webhook")

    calls: dict[str, int] = {}
    for call in control.get("/_control/calls").json():
        if call["api_key"] == N8N_KEY and call["url"]:
            calls[call["url"]] = calls.get(call["url"], 0) + 1
    assert calls == {
        t.by_platform("tiktok")["url"]: 1,
        t.by_platform("youtube")["url"]: 1,
        instagram["url"]: 3,
        facebook["url"]: 1,
    }
    arrived = await sources_of(admin_db, t)
    assert arrived == {
        t.by_platform("tiktok")["url"]: {1},
        t.by_platform("youtube")["url"]: {1},
    }
    (run,) = await runs_of(ingest, t.org_id)
    assert (run["status"], run["posts_ok"], run["posts_failed"]) == ("partial", 2, 2)
    assert run["execution_id"]
    failing = next(
        i for i in run["items"] if i["kind"] == "outcome" and i["url"] == instagram["url"]
    )
    assert (failing["status"], failing["code"], failing["http_status"], failing["tries"]) == (
        "failed",
        "server_error",
        500,
        3,
    )
    state = await admin_db.fetchrow(
        "SELECT consecutive_failures, last_error_code FROM ingest.tracked_posts WHERE id = $1",
        t.post_ids[instagram["url"]],
    )
    assert (state["consecutive_failures"], state["last_error_code"]) == (1, "server_error")

    # 2. The RabbitMQ workflow, the provider healthy again.
    control.post("/_control/reset").raise_for_status()
    n8n.execute("rabbitmq")
    runs = await runs_of(ingest, t.org_id)
    assert sorted(r["status"] for r in runs) == ["partial", "success"]
    for _ in range(100):  # AMQP: the messages are consumed a moment after n8n published them
        arrived = await sources_of(admin_db, t)
        if all(2 in arrived.get(s["url"], set()) for s in t.sources):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the RabbitMQ workflow's samples never all arrived: {arrived}")
