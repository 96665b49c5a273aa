"""Issue 15's API rate limits as a client meets them, with the real default (100 per minute per
person) on TWO gateway processes and one ingest, all counting in the run's Redis: 100 requests
spread over both replicas pass and the 101st is refused with Retry-After, another person is
unaffected, the event stream and what a page loads are not counted, an organization's own limit
applies on both replicas, and each ingest token has a window of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.agency import PASSWORD, create_org
from tests.support.services import ROOT, ServiceProcess
from tests.support.staff_api import ok

pytestmark = pytest.mark.system
LOGS = ROOT / "test-artifacts" / "logs"
INGEST_LIMIT = 5
Replicas = dict[str, Any]


@pytest.fixture(scope="module")
def replicas(service_env: dict[str, str]) -> Iterator[Replicas]:
    """The run's service_env lifts the limits for every other module; here they are real."""
    procs: list[ServiceProcess] = []
    try:
        ingest = ServiceProcess(
            "ingest",
            {**service_env, "PULSE_INGEST_TOKEN_REQUESTS_PER_MINUTE": str(INGEST_LIMIT)},
            LOGS,
        )
        ingest.start()
        procs.append(ingest)
        env = {
            **service_env,
            "PULSE_GATEWAY_INGEST_URL": ingest.url,
            "PULSE_GATEWAY_API_REQUESTS_PER_MINUTE": "100",
            "PULSE_GATEWAY_API_LIMIT_CACHE_TTL_S": "1",
        }
        gateways = [ServiceProcess("gateway", env, LOGS) for _ in range(2)]
        for gateway in gateways:
            gateway.start()
            procs.append(gateway)
        yield {"ingest": ingest, "gateways": gateways}
    finally:
        for proc in procs:
            proc.stop()


class Person:
    """One signed-in person with a client on each gateway replica (the same bearer token)."""

    def __init__(self, urls: list[str], token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        self.on = [httpx.AsyncClient(base_url=u, headers=headers, timeout=20) for u in urls]

    async def close(self) -> None:
        for client in self.on:
            await client.aclose()


async def sign_in(urls: list[str], email: str) -> Person:
    async with httpx.AsyncClient(base_url=urls[0], timeout=20) as anonymous:
        login = await ok(
            anonymous.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        )
    return Person(urls, login["access_token"])


@pytest.fixture(scope="module")
async def agency(replicas: Replicas, service_env: dict[str, str]) -> AsyncIterator[Any]:
    urls = [g.url for g in replicas["gateways"]]
    email = f"owner-{uuid4().hex[:8]}@northwind.agency"
    await asyncio.to_thread(create_org, service_env, "Northwind", email, test=True)
    owner = await sign_in(urls, email)
    people = [owner]

    async def person(role: str, by: Person = owner) -> Person:
        address = f"{role}-{uuid4().hex[:8]}@northwind.agency"
        body = {"email": address, "name": role, "role": role, "password": PASSWORD}
        await ok(by.on[0].post("/api/users", json=body))
        found = await sign_in(urls, address)
        people.append(found)
        return found

    try:
        yield owner, person
    finally:
        for p in people:
            await p.close()


def refused_count(gateway: ServiceProcess) -> float:
    text = httpx.get(f"{gateway.url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "pulse_rate_limit_requests_total" and sample.labels == {
                "outcome": "refused"
            }:
                return sample.value
    return 0.0


async def stream_opens(client: httpx.AsyncClient) -> bool:
    async with client.stream("GET", "/api/stream", timeout=10) as response:
        if response.status_code != 200:
            return False
        assert "RateLimit-Limit" not in response.headers
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                return True
    return False


async def test_100_requests_across_two_replicas_pass_and_the_101st_is_refused(
    agency: Any, replicas: Replicas
) -> None:
    owner, person = agency
    analyst = await person("analyst")
    remaining = []
    for i in range(100):
        if i in (10, 60):  # the event stream, on either replica, is never counted
            assert await stream_opens(analyst.on[i % 2])
        r = await analyst.on[i % 2].get("/api/campaigns")
        assert r.status_code == 200, (i, r.status_code, r.text)
        assert r.headers["RateLimit-Limit"] == "100"
        assert 1 <= int(r.headers["RateLimit-Reset"]) <= 60
        remaining.append(int(r.headers["RateLimit-Remaining"]))
    assert remaining == list(range(99, -1, -1)), "one window, counted on both replicas"

    refused = await analyst.on[0].get("/api/campaigns")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Remaining"] == "0"
    error = refused.json()["error"]
    assert error["code"] == "too_many_requests"
    assert "100 per 60 s" in error["message"]
    assert error["details"] == []
    also_refused = await analyst.on[1].get("/api/settings/api-limit")
    assert also_refused.status_code == 429, "the other replica knows the window is full"
    assert sum(refused_count(g) for g in replicas["gateways"]) >= 2

    # Not counted, and so still open to the refused person: the stream, static files, the
    # operational routes.
    assert await stream_opens(analyst.on[1])
    for path in ("/static/pulse.css", "/health", "/ready", "/metrics", "/api/health"):
        assert (await analyst.on[0].get(path)).status_code == 200, path

    # Another person of the same organization has a window of their own.
    mine = await owner.on[1].get("/api/campaigns")
    assert mine.status_code == 200
    assert int(mine.headers["RateLimit-Remaining"]) >= 90


async def test_an_organizations_own_limit_applies_on_every_replica(agency: Any) -> None:
    _, person = agency
    owner = await person("owner")  # a window of their own: they live under the lowered limit
    manager = await person("manager")
    analyst = await person("analyst")

    for bad in (0, -5):
        r = await owner.on[0].put("/api/settings/api-limit", json={"requests_per_minute": bad})
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["path"] == "body.requests_per_minute"
    denied = await manager.on[0].put("/api/settings/api-limit", json={"requests_per_minute": 5})
    assert denied.status_code == 403, "owners set it"

    changed = await ok(owner.on[0].put("/api/settings/api-limit", json={"requests_per_minute": 7}))
    assert changed == {
        "requests_per_minute": 7,
        "organization_value": 7,
        "default": 100,
        "window_s": 60,
    }
    await asyncio.sleep(
        1.2
    )  # the other replica's cached copy (PULSE_GATEWAY_API_LIMIT_CACHE_TTL_S)
    seen = [await analyst.on[i % 2].get("/api/settings/api-limit") for i in range(8)]
    assert [r.status_code for r in seen] == [200] * 7 + [429]
    assert {r.headers["RateLimit-Limit"] for r in seen} == {"7"}
    assert seen[0].json()["requests_per_minute"] == 7

    # Back to the default (null): a fresh person's window is 100 again.
    await ok(owner.on[1].put("/api/settings/api-limit", json={"requests_per_minute": None}))
    await asyncio.sleep(1.2)
    fresh = await person("analyst", by=owner)
    answer = await fresh.on[0].get("/api/campaigns")
    assert answer.headers["RateLimit-Limit"] == "100"


async def test_the_api_limit_screen_shows_and_changes_the_limit(
    agency: Any, replicas: Replicas, service_env: dict[str, str]
) -> None:
    """Owners change it from Settings; a bad value is named on its field."""
    email = f"owner-{uuid4().hex[:8]}@southwind.agency"
    await asyncio.to_thread(create_org, service_env, "Southwind", email, test=True)
    url = replicas["gateways"][1].url
    async with httpx.AsyncClient(base_url=url, timeout=20) as browser:
        login = await browser.post(
            "/login", data={"email": email, "password": PASSWORD, "next": "/campaigns"}
        )
        assert login.status_code == 303
        browser.headers["X-CSRF-Token"] = browser.cookies["pulse_csrf"]
        page = await browser.get("/settings/api-limit")
        assert page.status_code == 200
        assert "100 requests per minute" in page.text
        assert "(the default)" in page.text
        assert "RateLimit-Limit" not in page.headers, "the dashboard's pages are not counted"
        bad = await browser.post("/settings/api-limit", data={"requests_per_minute": "0"})
        assert bad.status_code == 422
        assert "at least 1" in bad.text
        saved = await browser.post("/settings/api-limit", data={"requests_per_minute": "250"})
        assert saved.status_code == 200
        assert "API limit saved." in saved.text
        assert "250 requests per minute" in saved.text
        api = await browser.get("/api/settings/api-limit")
        assert api.json()["organization_value"] == 250
        assert api.headers["RateLimit-Limit"] == "250"


async def known(client: httpx.AsyncClient) -> httpx.Response:
    """Opens a run once ingest knows the token (it learns of new ones from catalog events);
    refusals of an unknown token are not counted."""
    for _ in range(100):
        answer = await client.post("/api/ingest/runs", json={"source": "n8n"})
        if answer.status_code != 401:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError("ingest never learnt of the token")


async def test_each_ingest_token_has_its_own_higher_limit(agency: Any, replicas: Replicas) -> None:
    owner, _ = agency
    ingest_url = replicas["ingest"].url
    tokens = [
        (await ok(owner.on[0].post("/api/tokens", json={"name": n, "scopes": ["ingest"]})))["token"]
        for n in ("n8n", "n8n-backfill")
    ]
    clients = [
        httpx.AsyncClient(base_url=ingest_url, headers={"X-Pulse-Key": t}, timeout=20)
        for t in tokens
    ]
    try:
        first, second = clients
        answers = [await known(first)]
        sample = {
            "url": "https://www.tiktok.com/@maya/video/7400000000000000001",
            "metrics": {"views": 1},
        }
        answers += [await first.post("/api/ingest/posts", json=sample) for _ in range(4)]
        assert [a.status_code < 300 for a in answers] == [True] * 5, [a.text for a in answers]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0"]
        assert {a.headers["RateLimit-Limit"] for a in answers} == {str(INGEST_LIMIT)}
        refused = await first.post("/api/ingest/posts", json=sample)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"]["code"] == "too_many_requests"
        other = await known(second)
        assert other.status_code == 201, "each token counts on its own"
        assert other.headers["RateLimit-Remaining"] == "4"
        # Ingest's limit is the token's: the owner's staff API window is not touched by it.
        mine = await owner.on[0].get("/api/campaigns")
        assert mine.status_code == 200
    finally:
        for client in clients:
            await client.aclose()
