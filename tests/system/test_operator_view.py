"""Issue 12, defect 13: an n8n message published with a missing or wrong `x-pulse-key` belongs
to no organization, so no staff screen listed it. The operator's health view (the gateway's
/docs/architecture) now counts it, read from ingest's operator route, with ingest and the
gateway running as processes."""

from __future__ import annotations

import asyncio
import re
from uuid import uuid4

import aio_pika
import pytest

from services.gateway.tests.test_pages_forms import signed_in
from tests.support.agency import create_org
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ServiceProcess
from tests.system.test_gateway_flow import system  # noqa: F401 - ingest, …, gateway

pytestmark = pytest.mark.system


def _refused(html: str) -> int | None:
    found = re.search(r'data-refused="(\d+)"', html)
    return int(found.group(1)) if found else None


async def test_the_architecture_page_counts_messages_refused_for_their_key(
    system: dict[str, ServiceProcess],  # noqa: F811
    service_env: dict[str, str],
    servers: Servers,
) -> None:
    email = f"ops-{uuid4().hex[:8]}@northwind.agency"
    await asyncio.to_thread(create_org, service_env, "Northwind Ops", email)
    async with signed_in(system["gateway"], email) as browser:
        before = _refused((await browser.get("/docs/architecture/live")).text)
        assert before is not None, "the health view does not show refused messages"
        async with Bus(servers.amqp_url) as bus:
            exchange = await bus.channel.get_exchange("pulse.ingest")
            for headers in ({}, {"x-pulse-key": "pulse_ingest_wrong"}):
                await exchange.publish(
                    aio_pika.Message(b'{"metrics": {"views": 1}}', headers=headers),
                    routing_key="ingest.posts",
                )
        for _ in range(100):
            page = await browser.get("/docs/architecture", headers={"HX-Request": ""})
            shown = _refused(page.text)
            if shown is not None and shown >= before + 2:
                break
            await asyncio.sleep(0.1)
        assert shown is not None
        assert shown >= before + 2, page.text
        assert "x-pulse-key" in page.text
