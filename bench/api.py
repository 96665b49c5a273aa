"""Talking to Pulse the way its users do: the `pulse` CLI and the gateway's staff API."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import httpx

from pulse_runtime.settings import with_database

from .system import clean_environ

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


def cost_script_parser(doc: str | None) -> argparse.ArgumentParser:
    """The arguments every cost script takes: its description (its docstring's first line) and
    the cluster administrator URL its scratch database is made with."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("PULSE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1/postgres"),
    )
    return parser


@asynccontextmanager
async def scratch_database(pg_url: str, name: str) -> AsyncIterator[str]:
    """A new database `name` on `pg_url`'s cluster, migrated by `pulse migrate` and dropped
    afterwards, for the cost scripts that time one service's code alone; yields its URL."""

    async def admin(*statements: str) -> None:
        conn = await asyncpg.connect(pg_url)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    drop = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    await admin(drop, f"CREATE DATABASE {name}")
    try:
        database_url = with_database(pg_url, name)
        env = {**clean_environ(), "PULSE_ENV": "test", "PULSE_DATABASE_URL": database_url}
        await asyncio.to_thread(migrate, env)
        yield database_url
    finally:
        await admin(drop)


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
