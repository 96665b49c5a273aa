"""Talking to Pulse the way its users do: the `pulse` CLI and the gateway's staff API."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
PASSWORD = "bench-password-not-secret"  # noqa: S105 - bench organizations only


class ApiFailure(RuntimeError):
    pass


async def ok(request: Awaitable[httpx.Response]) -> Any:
    response = await request
    if response.status_code >= 300:
        raise ApiFailure(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:500]}"
        )
    return response.json() if response.content else None


async def bounded(coros: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Run awaitables with at most `limit` in flight, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[T]) -> T:
        async with gate:
            return await coro

    return list(await asyncio.gather(*(one(c) for c in coros)))


def migrate(env: Mapping[str, str]) -> None:
    """`pulse migrate`: every service's roles, schemas and migrations."""
    done = subprocess.run(
        [sys.executable, "-m", "pulse_gateway.cli", "migrate"],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise ApiFailure(f"pulse migrate failed: {done.stderr[-2000:]}")


async def create_org(env: Mapping[str, str], name: str, email: str, *, test: bool) -> str:
    """`pulse admin create-org`; `test` flags an organization the provider never pulls
    (events.md: "organizations flagged is_test are never pulled")."""
    argv = [
        sys.executable,
        "-m",
        "pulse_gateway.cli",
        "admin",
        "create-org",
        name,
        "--owner-email",
        email,
        "--owner-password",
        PASSWORD,
        *(["--test"] if test else []),
    ]
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    if process.returncode != 0:
        raise ApiFailure(f"pulse admin create-org: {err.decode()[-2000:]}")
    org_id: str = json.loads(out)["org_id"]
    return org_id


async def login(client: httpx.AsyncClient, email: str) -> str:
    """Sign in as staff; the bearer JWT is set on `client` and returned."""
    body = await ok(client.post("/api/auth/login", json={"email": email, "password": PASSWORD}))
    token: str = body["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return token


async def sign_in_page(client: httpx.AsyncClient, email: str) -> None:
    """Sign in through the login form, as a browser does: `client` keeps the session cookie
    the dashboard's pages and their EventSource send (pages refuse bearer credentials)."""
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/campaigns"}
    )
    if response.status_code != 303:
        raise ApiFailure(f"POST /login: {response.status_code} {response.text[:500]}")


def staff_client(gateway_url: str, timeout: float = 30) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx.AsyncClient(base_url=gateway_url, timeout=timeout, limits=limits)
