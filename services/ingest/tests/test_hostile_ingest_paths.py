"""The hostile batch of test_hostile_items.py through both of n8n's paths into a running ingest:
the webhook answers 200 with each bad item's code (never a 500), AMQP stores the same valid
items and keeps the same rejections, and a message refused for its key is visible to an
operator (/metrics and the operator route), since no organization can see it."""

from __future__ import annotations

import json
import re
from uuid import uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from services.ingest.tests.test_hostile_items import hostile_batch
from services.ingest.tests.test_ingest_api import (  # noqa: F401 - fixtures
    ROUTE,
    Tenant,
    _rejections,
    _samples,
    _until,
    bus,
    http,
    ingest,
    tenant,
)
from tests.support.scenario import Bus
from tests.support.services import SERVICE_TOKEN

pytestmark = pytest.mark.integration

STORED_VIEWS = [100, 200, 4242]  # items 0, 12 and 13 of the hostile batch


async def test_the_webhook_stores_the_valid_items_of_a_hostile_batch(
    http: httpx.AsyncClient,  # noqa: F811
    tenant: Tenant,  # noqa: F811
    admin_db: asyncpg.Connection,
) -> None:
    post = tenant.post("tiktok")
    body, codes = hostile_batch(post["id"])
    response = await http.post(
        ROUTE, content=body, headers={**tenant.bearer, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert [(r["index"], r["code"]) for r in result["rejected"]] == sorted(codes.items())
    assert (result["accepted"], result["duplicates"]) == (3, 0)
    assert [r["views"] for r in await _samples(admin_db, post["id"])] == STORED_VIEWS
    kept = await _rejections(admin_db, tenant.org_id)
    assert {r["item_index"]: r["code"] for r in kept} == codes


@pytest.mark.parametrize("body", [b'{"items": [', b"\xff\xfe not json", b"[1, foo]"])
async def test_a_body_that_cannot_be_parsed_is_a_400_with_its_reason_and_is_kept(
    http: httpx.AsyncClient,  # noqa: F811
    tenant: Tenant,  # noqa: F811
    admin_db: asyncpg.Connection,
    body: bytes,
) -> None:
    response = await http.post(
        ROUTE, content=body, headers={**tenant.bearer, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "not valid JSON" in response.json()["error"]["message"]
    (kept,) = await _rejections(admin_db, tenant.org_id)
    assert kept["code"] == "invalid_body"


async def test_amqp_stores_the_valid_items_of_a_hostile_batch(
    bus: Bus,  # noqa: F811
    tenant: Tenant,  # noqa: F811
    admin_db: asyncpg.Connection,
) -> None:
    post = tenant.post("tiktok")
    body, codes = hostile_batch(post["id"])
    exchange = await bus.channel.get_exchange("pulse.ingest")
    await exchange.publish(
        aio_pika.Message(body, headers={"x-pulse-key": tenant.ingest_token}),
        routing_key="ingest.posts",
    )

    async def landed() -> bool:
        return len(await _samples(admin_db, post["id"])) == len(STORED_VIEWS)

    await _until(landed, "the valid items of a hostile AMQP message were not stored")
    assert [r["views"] for r in await _samples(admin_db, post["id"])] == STORED_VIEWS
    kept = await _rejections(admin_db, tenant.org_id)
    assert {r["item_index"]: (r["code"], r["channel"]) for r in kept} == {
        index: (code, "amqp") for index, code in codes.items()
    }


def _refused(metrics_text: str, reason: str) -> float:
    found = re.search(
        rf'^pulse_ingest_refused_messages_total\{{reason="{reason}"\}} (\S+)$',
        metrics_text,
        re.MULTILINE,
    )
    assert found, f"no refused-messages counter for {reason} on /metrics"
    return float(found.group(1))


async def test_messages_refused_for_their_key_are_counted_and_listed_for_the_operator(
    bus: Bus,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    before = (await http.get("/metrics")).text
    marker = f"refused-{uuid4().hex}"
    exchange = await bus.channel.get_exchange("pulse.ingest")
    for headers in ({}, {"x-pulse-key": f"pulse_ingest_{uuid4().hex}"}):
        await exchange.publish(
            aio_pika.Message(json.dumps({"marker": marker}).encode(), headers=headers),
            routing_key="ingest.posts",
        )
    operator = {"X-Pulse-Service-Token": SERVICE_TOKEN}
    listed: list[dict[str, str]] = []

    async def both_listed() -> bool:
        answer = await http.get("/internal/operator/refused-messages", headers=operator)
        listed[:] = [i for i in answer.json()["items"] if marker in i["raw"]]
        return len(listed) == 2

    await _until(both_listed, "refused messages are not in the operator's view")
    assert {i["message"] for i in listed} == {
        "missing x-pulse-key header",
        "unknown or revoked x-pulse-key",
    }
    view = (await http.get("/internal/operator/refused-messages", headers=operator)).json()
    assert view["recent"] >= 2
    assert view["last_at"] is not None
    after = (await http.get("/metrics")).text
    for reason in ("missing_key", "unknown_key"):
        assert _refused(after, reason) >= _refused(before, reason) + 1
    assert (await http.get("/internal/operator/refused-messages")).status_code == 401
