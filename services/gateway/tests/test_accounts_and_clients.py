"""Accounts, roles, tenancy and the client resource, through the gateway as a real process."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

from pulse_runtime.settings import with_user
from tests.support.agency import PASSWORD, create_org
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="module")
def gateway(service_env: dict[str, str], mail_dir: Path) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        "gateway",
        {**service_env, "PULSE_GATEWAY_MAIL_DIR": str(mail_dir)},
        ROOT / "test-artifacts" / "logs",
    )
    proc.start()
    yield proc
    proc.stop()


class Agency:
    def __init__(self, gateway: ServiceProcess, service_env: dict[str, str]) -> None:
        self.owner_email = f"owner-{uuid4().hex[:8]}@northwind.agency"
        self.ids = create_org(service_env, "Northwind Talent", self.owner_email)
        self.url = gateway.url

    async def login(self, email: str | None = None, password: str = PASSWORD) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.url, timeout=10)
        response = await client.post(
            "/api/auth/login", json={"email": email or self.owner_email, "password": password}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return client


@pytest.fixture
async def agency(gateway: ServiceProcess, service_env: dict[str, str]) -> Agency:
    return await asyncio.to_thread(Agency, gateway, service_env)


@pytest.fixture
async def owner(agency: Agency) -> AsyncIterator[httpx.AsyncClient]:
    client = await agency.login()
    yield client
    await client.aclose()


async def _person(owner: httpx.AsyncClient, agency: Agency, role: str) -> httpx.AsyncClient:
    email = f"{role}-{uuid4().hex[:8]}@northwind.agency"
    created = await owner.post(
        "/api/users", json={"email": email, "role": role, "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    return await agency.login(email)


async def test_the_cli_creates_an_org_whose_owner_signs_in(
    agency: Agency, owner: httpx.AsyncClient
) -> None:
    me = (await owner.get("/api/me")).json()
    assert me["org_id"] == agency.ids["org_id"]
    assert me["user_id"] == agency.ids["user_id"]
    assert me["role"] == "owner"


async def test_failed_sign_ins_answer_the_same_and_are_rate_limited(agency: Agency) -> None:
    async with httpx.AsyncClient(base_url=agency.url) as client:
        wrong = await client.post(
            "/api/auth/login", json={"email": agency.owner_email, "password": "nope"}
        )
        unknown = await client.post(
            "/api/auth/login", json={"email": "ghost@northwind.agency", "password": "nope"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        for _ in range(4):
            await client.post(
                "/api/auth/login", json={"email": agency.owner_email, "password": "nope"}
            )
        limited = await client.post(
            "/api/auth/login", json={"email": agency.owner_email, "password": PASSWORD}
        )
        assert limited.status_code == 429


async def test_cookie_sessions_need_the_csrf_token_for_writes(agency: Agency) -> None:
    async with httpx.AsyncClient(base_url=agency.url) as browser:
        login = await browser.post(
            "/api/auth/login", json={"email": agency.owner_email, "password": PASSWORD}
        )
        assert "httponly" in login.headers["set-cookie"].lower()
        assert (await browser.get("/api/clients")).status_code == 200
        refused = await browser.post("/api/clients", json={"name": "Acme"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        csrf = login.json()["csrf_token"]
        accepted = await browser.post(
            "/api/clients", json={"name": "Acme"}, headers={"X-CSRF-Token": csrf}
        )
        assert accepted.status_code == 201
        assert (
            await browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
        ).status_code == 204
        assert (await browser.get("/api/clients")).status_code == 401


async def test_roles_are_enforced(agency: Agency, owner: httpx.AsyncClient) -> None:
    manager = await _person(owner, agency, "manager")
    analyst = await _person(owner, agency, "analyst")
    assert (await manager.post("/api/clients", json={"name": "Globex"})).status_code == 201
    refused = await analyst.post("/api/clients", json={"name": "Initech"})
    assert refused.status_code == 403
    assert "manager" in refused.json()["error"]["message"]
    assert (await analyst.get("/api/clients")).status_code == 200
    assert (await manager.get("/api/users")).status_code == 403
    for client in (manager, analyst):
        await client.aclose()


async def test_another_organizations_client_is_not_found(
    agency: Agency, owner: httpx.AsyncClient, gateway: ServiceProcess, service_env: dict[str, str]
) -> None:
    created = (await owner.post("/api/clients", json={"name": "Umbrella"})).json()
    other = await (await asyncio.to_thread(Agency, gateway, service_env)).login()
    for method in ("GET", "PATCH", "DELETE"):
        theirs = await other.request(
            method,
            f"/api/clients/{created['id']}",
            json={"name": "x"} if method == "PATCH" else None,
        )
        missing = await other.request(
            method, f"/api/clients/{uuid4()}", json={"name": "x"} if method == "PATCH" else None
        )
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["error"]["code"] == missing.json()["error"]["code"]
    assert created["id"] not in {c["id"] for c in (await other.get("/api/clients")).json()["items"]}
    await other.aclose()


async def test_row_level_security_hides_rows_when_the_organization_is_not_set(
    agency: Agency, owner: httpx.AsyncClient, servers: Servers
) -> None:
    await owner.post("/api/clients", json={"name": "Hooli"})
    conn = await asyncpg.connect(with_user(servers.database_url, "pulse_gateway"))
    try:
        assert await conn.fetchval("SELECT count(*) FROM catalog.clients") == 0
        async with conn.transaction():
            await conn.execute("SELECT set_config('pulse.org_id', $1, true)", agency.ids["org_id"])
            assert await conn.fetchval("SELECT count(*) FROM catalog.clients") >= 1
    finally:
        await conn.close()


async def test_client_crud_writes_audit_rows_and_catalog_events(
    owner: httpx.AsyncClient, agency: Agency, servers: Servers, admin_db: asyncpg.Connection
) -> None:
    connection = await aio_pika.connect_robust(servers.amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        "pulse.events", aio_pika.ExchangeType.TOPIC, durable=True
    )
    probe = await channel.declare_queue(exclusive=True)
    await probe.bind(exchange, routing_key="catalog.client.upserted")
    created = (
        await owner.post("/api/clients", json={"name": "Stark", "brand_color": "#112233"})
    ).json()
    patched = await owner.patch(
        f"/api/clients/{created['id']}", json={"brand_color": None, "name": "Stark Industries"}
    )
    assert patched.status_code == 200
    assert patched.json()["brand_color"] is None
    assert (
        await owner.patch(f"/api/clients/{created['id']}", json={"brand_color": "red"})
    ).status_code == 422

    events: list[dict[str, Any]] = []
    for _ in range(100):
        message = await probe.get(fail=False)
        if message is None:
            if len(events) >= 2:
                break
            await asyncio.sleep(0.05)
            continue
        await message.ack()
        body = json.loads(message.body)
        if body["data"]["id"] == created["id"]:
            events.append(body)
    assert [e["data"]["name"] for e in events] == ["Stark", "Stark Industries"]
    assert events[0]["org_id"] == agency.ids["org_id"]
    assert events[1]["data"]["updated_at"] > events[0]["data"]["updated_at"]
    await connection.close()

    assert (await owner.delete(f"/api/clients/{created['id']}")).status_code == 204
    assert (await owner.get(f"/api/clients/{created['id']}")).status_code == 404
    actions = await admin_db.fetch(
        "SELECT action, actor FROM catalog.audit_log WHERE entity_id = $1 ORDER BY id",
        created["id"],
    )
    assert [a["action"] for a in actions] == ["create", "update", "delete"]
    assert {a["actor"] for a in actions} == {f"user:{agency.ids['user_id']}"}


async def test_pagination_walks_every_client_once(owner: httpx.AsyncClient) -> None:
    names = {f"Brand {i}" for i in range(7)}
    for name in names:
        await owner.post("/api/clients", json={"name": name})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        body = (await owner.get("/api/clients", params=params)).json()
        seen += [c["name"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert names <= set(seen)


async def test_an_emailed_link_signs_in_once(agency: Agency, mail_dir: Path) -> None:
    async with httpx.AsyncClient(base_url=agency.url) as client:
        before = set(mail_dir.glob("*.eml"))
        assert (
            await client.post("/api/auth/email-link", json={"email": agency.owner_email})
        ).status_code == 202
        assert (
            await client.post("/api/auth/email-link", json={"email": "ghost@northwind.agency"})
        ).status_code == 202
        # Mails go out after the answer (api/auth.py says why): wait for the one, then a
        # moment for any that should not come.
        for _ in range(50):
            if set(mail_dir.glob("*.eml")) - before:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        new = set(mail_dir.glob("*.eml")) - before
        assert len(new) == 1, "one mail for the real account, none for the unknown one"
        message = email.message_from_bytes(new.pop().read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        text = message.get_content()
        link = next(line for line in text.splitlines() if "/api/auth/email-link/" in line).strip()
        path = link[link.index("/api/") :]
        used = await client.get(path)
        assert used.status_code == 303
        assert "pulse_session" in used.headers["set-cookie"]
        assert (await client.get(path)).status_code == 401


async def test_the_last_owner_cannot_be_demoted(owner: httpx.AsyncClient, agency: Agency) -> None:
    demoted = await owner.patch(f"/api/users/{agency.ids['user_id']}", json={"role": "analyst"})
    assert demoted.status_code == 409


async def test_a_password_hashed_with_the_older_64_mib_default_is_made_again_at_sign_in(
    agency: Agency, servers: Servers
) -> None:
    """Hashes stored before the memory-bounded parameters (pulse_runtime.passwords) still sign
    in, and the first sign-in stores the same password at today's parameters."""
    older = PasswordHasher().hash(PASSWORD)  # argon2-cffi's default: 64 MiB, 3 passes, 4 lanes
    conn = await asyncpg.connect(servers.database_url)
    try:
        await conn.execute(
            "UPDATE catalog.users SET password_hash = $2 WHERE id = $1",
            UUID(agency.ids["user_id"]),
            older,
        )
        client = await agency.login()
        await client.aclose()
        stored = await conn.fetchval(
            "SELECT password_hash FROM catalog.users WHERE id = $1", UUID(agency.ids["user_id"])
        )
    finally:
        await conn.close()
    assert stored != older
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    client = await agency.login()  # the new hash signs in as well
    assert (await client.get("/api/me")).json()["user_id"] == agency.ids["user_id"]
    await client.aclose()
    async with httpx.AsyncClient(base_url=agency.url) as other:
        wrong = await other.post(
            "/api/auth/login", json={"email": agency.owner_email, "password": "nope"}
        )
    assert wrong.status_code == 401
