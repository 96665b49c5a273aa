"""What every gateway answer carries, and which bodies it refuses before reading them, through
the gateway as a real process behind a (loopback) proxy it trusts."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from uuid import uuid4

import httpx
import pytest

from tests.support.agency import PASSWORD, create_org
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def gateway(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("gateway", {**service_env, "PULSE_TRUSTED_PROXIES": "127.0.0.1"}, LOGS)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
async def owner(
    gateway: ServiceProcess, service_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    await asyncio.to_thread(create_org, service_env, "Northwind Talent", email)
    client = httpx.AsyncClient(base_url=gateway.url, timeout=60)
    r = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    yield client
    await client.aclose()


@pytest.fixture
async def anonymous(gateway: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
        yield client


# --- 10. bodies over the limit are refused before they are read -------------------------------


async def test_an_anonymous_50_mb_json_body_is_refused_with_413_unread(
    anonymous: httpx.AsyncClient,
) -> None:
    body = b'{"name": "' + b"x" * (50 * MB) + b'"}'
    r = await anonymous.post(
        "/api/clients", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "payload_too_large"


async def test_a_streamed_body_is_cut_off_at_the_json_limit(anonymous: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "'
        for _ in range(8):  # 8 MB with no Content-Length: counted as it arrives
            yield b"a" * MB
        yield b'", "password": "x"}'

    r = await anonymous.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text


async def test_a_signed_in_json_body_over_one_mb_is_refused(owner: httpx.AsyncClient) -> None:
    r = await owner.post("/api/clients", json={"name": "x" * (MB + 10)})
    assert r.status_code == 413, r.text
    assert (await owner.post("/api/clients", json={"name": "Acme"})).status_code == 201


async def test_a_csv_import_keeps_its_own_larger_cap(
    owner: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    header = b"post_id,observed_at,views,likes,comments,shares,saves\n"
    row = f"{uuid4()},2026-11-20T10:00:00Z,1000,10,1,1,1\n".encode()
    csv = header + row * (3 * MB // len(row))  # 3 MB: over the JSON limit, under the CSV's
    files = {"file": ("metrics.csv", csv, "text/csv")}
    r = await owner.post("/api/imports/metrics", files=files)
    assert r.status_code == 202, r.text
    refused = await anonymous.post("/api/imports/metrics", files=files)
    assert refused.status_code == 401


# --- 11. headers ------------------------------------------------------------------------------


async def test_api_answers_are_not_stored_and_not_sniffed(
    owner: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    for r in (
        await owner.get("/api/me"),
        await owner.get("/api/clients"),
        await anonymous.get("/api/clients"),  # errors too
        await owner.post("/api/clients", json={"name": "Initech"}),
    ):
        assert r.headers["cache-control"] == "no-store", r.request.url
        assert r.headers["x-content-type-options"] == "nosniff", r.request.url


async def test_numbers_reads_keep_revalidation_so_they_can_answer_304(
    owner: httpx.AsyncClient,
) -> None:
    first = await owner.get("/api/campaigns")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.headers["x-content-type-options"] == "nosniff"
    again = await owner.get("/api/campaigns", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_hsts_only_over_https(anonymous: httpx.AsyncClient) -> None:
    plain = await anonymous.get("/api/health")
    assert "strict-transport-security" not in plain.headers
    https = await anonymous.get("/api/health", headers={"X-Forwarded-Proto": "https"})
    assert https.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_the_api_docs_page_has_a_content_security_policy(
    anonymous: httpx.AsyncClient,
) -> None:
    r = await anonymous.get("/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    # Its inline script runs because the policy names it by hash, and nothing else inline does.
    script = re.search(r"<script>(.*?)</script>", r.text, flags=re.DOTALL)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
