"""Sign-in bookkeeping does not grow forever: expired sessions and sign-in links and failed
sign-ins older than the login window are deleted, and nothing that still counts is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from pulse_contracts import utcnow
from pulse_gateway.handlers import accounts
from pulse_gateway.settings import GatewaySettings
from pulse_runtime.db import create_pool
from tests.support.servers import Servers

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(servers.database_url)
    yield pool
    await pool.close()


async def test_expired_sign_in_records_go_and_live_ones_stay(
    pool: asyncpg.Pool, service_env: dict[str, str]
) -> None:
    settings = GatewaySettings.load(service_env, login_window_minutes=15)
    org, user = await accounts.create_organization(
        pool,
        name="Housekeeping",
        owner_email=f"{uuid4().hex[:8]}@keep.example",
        owner_password="correct horse battery staple",
    )
    user_id: UUID = user["id"]
    now = utcnow()
    tag = uuid4().hex[:8]
    async with pool.acquire() as conn:
        for name, expires in (
            ("old", now - timedelta(minutes=1)),
            ("live", now + timedelta(days=1)),
        ):
            await conn.execute(
                "INSERT INTO catalog.sessions"
                " (token_sha256, user_id, org_id, csrf_token, expires_at)"
                " VALUES ($1, $2, $3, 'c', $4)",
                f"{tag}-session-{name}".encode(),
                user_id,
                org["id"],
                expires,
            )
            await conn.execute(
                "INSERT INTO catalog.email_links (token_sha256, user_id, expires_at)"
                " VALUES ($1, $2, $3)",
                f"{tag}-link-{name}".encode(),
                user_id,
                expires,
            )
        for name, at in (
            ("old", now - timedelta(minutes=16)),
            ("live", now - timedelta(minutes=14)),
        ):
            await conn.execute(
                "INSERT INTO catalog.login_failures (key, at) VALUES ($1, $2)", f"{tag}-{name}", at
            )

    assert await accounts.forget_expired(pool, settings, now) >= 3

    async with pool.acquire() as conn:
        sessions = await conn.fetch(
            "SELECT token_sha256 FROM catalog.sessions WHERE user_id = $1", user_id
        )
        links = await conn.fetch(
            "SELECT token_sha256 FROM catalog.email_links WHERE user_id = $1", user_id
        )
        failures = await conn.fetch(
            "SELECT key FROM catalog.login_failures WHERE key LIKE $1", f"{tag}-%"
        )
    assert [bytes(r[0]) for r in sessions] == [f"{tag}-session-live".encode()]
    assert [bytes(r[0]) for r in links] == [f"{tag}-link-live".encode()]
    assert [r[0] for r in failures] == [f"{tag}-live"], "a failure inside the window still counts"
