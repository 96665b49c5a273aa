"""What the gateway's routes need, created once by the composition root and held by the app."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx

from pulse_runtime.media_proxy import MediaProxy
from pulse_runtime.service import ServiceRuntime

from .rate_limits import ApiLimits
from .read_model import NumbersReadModel
from .security import JwtKeys
from .sessions import SessionCache
from .settings import GatewaySettings
from .stream import StreamHub


@dataclass
class GatewayContext:
    settings: GatewaySettings
    runtime: ServiceRuntime
    jwt_keys: JwtKeys
    hub: StreamHub
    numbers: NumbersReadModel
    sessions: SessionCache
    peers: httpx.AsyncClient | None = None  # created in the lifespan
    media: MediaProxy | None = None  # created in the lifespan, with a client of its own
    limits: ApiLimits | None = None  # created in the lifespan (its Redis pool)

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    @property
    def http(self) -> httpx.AsyncClient:
        if self.peers is None:
            raise RuntimeError("the gateway has not started: no HTTP client yet")
        return self.peers
