"""The staff API's rate limit: each person (or API token) has a window of requests per minute,
the organization's own size or the gateway's default, counted in Redis across replicas.

What counts: every authenticated /api request (deps.CallerDep), whichever replica answers it.
What does not: the event stream (one long request that must never be cut off by a count), the
media proxy's thumbnails and the static files (a page's images would spend a person's budget on
pictures), the dashboard's HTML pages (a person clicking, never a script: they refuse bearer
credentials), health, readiness and metrics, and the unauthenticated sign-in routes, which keep
their own per-address and per-account budgets in PostgreSQL.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from fastapi import Request

from pulse_runtime.errors import ApiError
from pulse_runtime.rate_limit import STATE_KEY, RateLimiter

from .db import org_transaction
from .repository import organizations as repo


class OrganizationLimits:
    """Each organization's limit, remembered for `ttl_s` in this process, so a request costs
    no query: a change made on another replica takes effect here within `ttl_s` (the replica
    that makes it forgets at once), the same bound as a revoked session's (sessions.py)."""

    def __init__(
        self,
        default: int,
        ttl_s: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = default
        self.ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[UUID, tuple[float, int]] = OrderedDict()

    async def of(self, pool: asyncpg.Pool, org_id: UUID) -> int:
        found = self._entries.get(org_id)
        if found is not None and self._clock() - found[0] < self.ttl_s:
            return found[1]
        async with org_transaction(pool, org_id) as conn:
            own = await repo.api_limit(conn, org_id=org_id)
        limit = own or self.default
        self._entries.pop(org_id, None)
        self._entries[org_id] = (self._clock(), limit)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return limit

    def forget(self, org_id: UUID) -> None:
        self._entries.pop(org_id, None)


@dataclass
class ApiLimits:
    limiter: RateLimiter
    organizations: OrganizationLimits

    async def count(
        self, pool: asyncpg.Pool, request: Request, org_id: UUID, user_id: UUID | None, actor: str
    ) -> None:
        """Count the request in its caller's window; 429 when the window is full. A person
        counts by their user id, an API token by its own id (`actor`)."""
        key = f"user:{user_id}" if user_id is not None else actor
        limit = await self.organizations.of(pool, org_id)
        decision = await self.limiter.hit(key, limit)
        if decision is None:
            return  # Redis unreachable: passes unchecked (pulse_runtime.rate_limit says why)
        setattr(request.state, STATE_KEY, decision)
        if not decision.admitted:
            raise ApiError(429, decision.refusal())
