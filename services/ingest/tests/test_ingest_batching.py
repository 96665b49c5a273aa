"""What batching must not change, seen from outside: ingest as a process fed a burst of n8n
messages, each keeping its own outcome; and the token cache's promise that a token revoked on
another replica stops working here within the TTL (1 s in this module)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from pulse_contracts.catalog import (
    ApiTokenUpserted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
)
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration

LOGS = ROOT / "test-artifacts" / "logs"
TTL_S = 1.0
ROUTE = "/api/ingest/posts"


@pytest.fixture(scope="module")
def ingest(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    env = {**service_env, "PULSE_INGEST_TOKEN_CACHE_TTL_S": str(TTL_S)}
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


class Tenant:
    def __init__(self) -> None:
        self.org_id = uuid4()
        self.token = f"pulse_ingest_{uuid4().hex}"
        self.token_id = uuid4()
        self.post_id = uuid4()
        self.ppid = f"74{uuid4().int % 10**17:017d}"


@pytest.fixture
async def tenant(bus: Bus, admin_db: asyncpg.Connection) -> Tenant:
    t = Tenant()
    stamp = utcnow() - timedelta(days=1)
    campaign_id = uuid4()
    for event in (
        OrganizationUpserted(id=t.org_id, name="Burst", updated_at=stamp),
        ApiTokenUpserted(
            id=t.token_id,
            org_id=t.org_id,
            name="n8n",
            token_sha256=hashlib.sha256(t.token.encode()).hexdigest(),
            scopes=["ingest"],
            updated_at=stamp,
        ),
        CampaignUpserted(
            id=campaign_id,
            client_id=uuid4(),
            name="Burst",
            status="live",
            start_date=date.today() - timedelta(days=3),
            end_date=date.today() + timedelta(days=10),
            updated_at=stamp,
        ),
        PostRegistered(
            id=t.post_id,
            booking_id=uuid4(),
            campaign_id=campaign_id,
            platform="tiktok",
            url=f"https://www.tiktok.com/@burst/video/{t.ppid}",
            platform_post_id=t.ppid,
            registered_at=stamp,
        ),
    ):
        await bus.publish_event(t.org_id, event)

    async def learned() -> bool:
        return bool(
            await admin_db.fetchval(
                "SELECT count(*) = 2 FROM (SELECT id FROM ingest.tracked_posts WHERE id = $1 "
                "UNION ALL SELECT id FROM ingest.api_tokens WHERE id = $2) AS known",
                t.post_id,
                t.token_id,
            )
        )

    await until(learned, "ingest never learned the catalog")
    return t


async def until(check: Any, message: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.05)


def item(t: Tenant, at: datetime, views: int) -> dict[str, Any]:
    return {
        "post_id": str(t.post_id),
        "observed_at": at.isoformat().replace("+00:00", "Z"),
        "metrics": {"views": views, "likes": 1},
    }


async def queue_depth(servers: Servers, name: str) -> int:
    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def test_a_burst_of_messages_is_answered_message_by_message(
    bus: Bus, tenant: Tenant, admin_db: asyncpg.Connection, servers: Servers
) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    marker = uuid4().hex
    valid = [[item(tenant, base + timedelta(minutes=i), views=i)] for i in range(30)]
    exchange = await bus.channel.get_exchange("pulse.ingest")
    for body in valid[:15]:
        await bus.publish_items(tenant.token, body)
    await bus.publish_items(f"pulse_ingest_{marker}", {**valid[0][0], "url": marker})
    await exchange.publish(
        aio_pika.Message(f"not json {marker}".encode(), headers={"x-pulse-key": tenant.token}),
        routing_key="ingest.posts",
    )
    unknown = {**valid[0][0], "post_id": str(uuid4())}
    await bus.publish_items(
        tenant.token, {"items": [unknown, item(tenant, base - timedelta(hours=1), 999)]}
    )
    await bus.publish_items(tenant.token, valid[3])  # a duplicate of the fourth message
    for body in valid[15:]:
        await bus.publish_items(tenant.token, body)

    async def settled() -> bool:
        samples = await admin_db.fetchval(
            "SELECT count(*) FROM ingest.samples s JOIN ingest.tracked_posts p "
            "ON p.key = s.post_key WHERE p.id = $1",
            tenant.post_id,
        )
        return bool(samples == 31)

    await until(settled, "the burst's samples never all arrived")
    rows = await admin_db.fetch(
        "SELECT s.views, s.source FROM ingest.samples s JOIN ingest.tracked_posts p "
        "ON p.key = s.post_key WHERE p.id = $1 ORDER BY s.observed_at",
        tenant.post_id,
    )
    assert [r["views"] for r in rows] == [999, *range(30)]
    assert {r["source"] for r in rows} == {2}  # amqp

    async def rejections() -> list[asyncpg.Record]:
        return list(
            await admin_db.fetch(
                "SELECT org_id, code, item_index, channel, raw::text AS raw "
                "FROM ingest.rejected_items WHERE org_id = $1 OR raw::text LIKE $2 "
                "ORDER BY id",
                tenant.org_id,
                f"%{marker}%",
            )
        )

    async def all_kept() -> bool:
        return len(await rejections()) == 3

    await until(all_kept, "a bad message was not kept")
    kept = {r["code"]: r for r in await rejections()}
    assert set(kept) == {"unauthorized", "invalid_body", "unknown_post"}
    assert kept["unauthorized"]["org_id"] is None
    assert kept["invalid_body"]["org_id"] == tenant.org_id
    assert json.loads(kept["invalid_body"]["raw"]) == {"unparsed": f"not json {marker}"}
    assert (kept["unknown_post"]["item_index"], kept["unknown_post"]["channel"]) == (0, "amqp")
    # Every message was acked, the bad ones too: nothing waits, nothing was dead-lettered.
    await until(lambda: _empty(servers, "ingest.items"), "messages left unacked")
    assert await queue_depth(servers, "ingest.items.dlq") == 0


async def _empty(servers: Servers, queue: str) -> bool:
    return await queue_depth(servers, queue) == 0


async def test_a_token_revoked_on_another_replica_stops_working_here_within_the_ttl(
    ingest: ServiceProcess, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    headers = {"Authorization": f"Bearer {tenant.token}"}
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    async with httpx.AsyncClient(base_url=ingest.url, timeout=10) as http:
        first = await http.post(ROUTE, json=item(tenant, base, 1), headers=headers)
        assert first.status_code == 200, first.text
        used = await admin_db.fetchval(
            "SELECT last_used_at FROM ingest.api_tokens WHERE id = $1", tenant.token_id
        )
        assert used is not None, "last use is recorded"

        # Another replica consumed the revocation: this one's database copy changes under it.
        await admin_db.execute(
            "UPDATE ingest.api_tokens SET revoked_at = now() WHERE id = $1", tenant.token_id
        )
        revoked_at = time.monotonic()
        n = 1
        while True:
            n += 1
            response = await http.post(
                ROUTE, json=item(tenant, base + timedelta(seconds=n), n), headers=headers
            )
            if response.status_code == 401:
                break
            assert response.status_code == 200, response.text
            assert time.monotonic() - revoked_at < TTL_S + 3, "still accepted after the TTL"
            await asyncio.sleep(0.1)
        for _ in range(3):
            again = await http.post(ROUTE, json=item(tenant, base, 1), headers=headers)
            assert again.status_code == 401
