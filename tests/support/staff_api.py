"""Helpers for system tests that drive the gateway's staff API and its SSE stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from typing import Any

import httpx


async def ok(response: Awaitable[httpx.Response]) -> Any:
    """The JSON of a successful answer; anything else fails with the request and the body."""
    r = await response
    assert r.status_code < 300, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


class Stream:
    """An SSE client that records when each event arrived."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.ready = asyncio.Event()

    async def run(self) -> None:
        async with self.client.stream("GET", "/api/stream", timeout=None) as response:
            event = None
            async for line in response.aiter_lines():
                if line.startswith(": connected"):
                    self.ready.set()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    self.events.append((time.monotonic(), event, json.loads(line[6:])))
