"""The public share port as a real process: a client cannot pick its own address by sending
X-Forwarded-For, and operators' routes (metrics, API documents) are not public."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from uuid import uuid4

import httpx
import pytest

from pulse_share.links import new_token
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
BURST = 5  # requests one address may make at once (low, so the test is short)
OPERATOR_ROUTES = ("/metrics", "/openapi.json", "/docs")


@pytest.fixture(scope="module")
def direct(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    """The default: no trusted proxies, no metrics network."""
    proc = ServiceProcess(
        "share", {**service_env, "PULSE_SHARE_RATE_ADDRESS_BURST": str(BURST)}, LOGS
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def behind_proxy(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        "share",
        {
            **service_env,
            "PULSE_SHARE_RATE_ADDRESS_BURST": str(BURST),
            "PULSE_TRUSTED_PROXIES": "127.0.0.1",
            "PULSE_SHARE_METRICS_NETWORKS": "10.20.0.0/16",
        },
        LOGS,
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
async def anonymous(direct: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=direct.url, timeout=20) as client:
        yield client


def address(i: int) -> str:
    return f"203.0.113.{i + 1}"


async def test_a_rotating_forwarded_address_does_not_escape_the_link_limit(
    anonymous: httpx.AsyncClient,
) -> None:
    token, _ = new_token()
    statuses = [
        (
            await anonymous.get(f"/api/share/{token}", headers={"X-Forwarded-For": address(i)})
        ).status_code
        for i in range(BURST + 1)
    ]
    assert statuses[:BURST] == [404] * BURST
    assert statuses[BURST] == 429, "a new X-Forwarded-For bought a fresh allowance"


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(
    behind_proxy: ServiceProcess,
) -> None:
    token, _ = new_token()
    async with httpx.AsyncClient(base_url=behind_proxy.url, timeout=20) as proxy:
        one = {"X-Forwarded-For": f"198.51.100.{uuid4().int % 250 + 1}"}
        statuses = [
            (await proxy.get(f"/api/share/{token}", headers=one)).status_code
            for _ in range(BURST + 1)
        ]
        assert statuses[BURST] == 429
        other = await proxy.get(f"/api/share/{token}", headers={"X-Forwarded-For": "192.0.2.9"})
        assert other.status_code == 404


async def test_operator_routes_are_not_served_on_the_public_port(
    anonymous: httpx.AsyncClient,
) -> None:
    for path in OPERATOR_ROUTES:
        r = await anonymous.get(path)
        assert r.status_code == 404, path
        assert r.headers["cache-control"] == "private, no-store"
    assert (await anonymous.get("/health")).status_code == 200
    assert (await anonymous.get("/ready")).status_code == 200


async def test_operator_routes_answer_the_metrics_network_only(
    behind_proxy: ServiceProcess,
) -> None:
    async with httpx.AsyncClient(base_url=behind_proxy.url, timeout=20) as proxy:
        for path in OPERATOR_ROUTES:
            inside = await proxy.get(path, headers={"X-Forwarded-For": "10.20.3.4"})
            assert inside.status_code == 200, path
            outside = await proxy.get(path, headers={"X-Forwarded-For": "192.0.2.10"})
            assert outside.status_code == 404, path
        metrics = await proxy.get("/metrics", headers={"X-Forwarded-For": "10.20.3.4"})
        assert "pulse_http_requests" in metrics.text
