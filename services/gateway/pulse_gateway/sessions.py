"""Who a session is, checked on every request and cached briefly in this process.

A session row is the one revocable thing behind both the cookie and the bearer JWT (whose
`sid` claim names it). Each request asks `catalog.session_caller` (one statement), unless this
process asked about the same session within `ttl_s`. Why a cache at all: a dashboard page
fires a burst of authenticated requests (the page, its htmx parts, numbers, the stream) and
one lookup serves the burst. Why so brief (5 s by default, at most 10): it is the longest a
revoked session can still work on another replica. In the process that revokes it (sign-out,
a password change, disabling, a role change) the entries are dropped at once, so there the
very next request is refused.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from .repository import users
from .security import Role

MAX_TTL_S = 10.0


@dataclass(frozen=True)
class SessionCaller:
    session_id: UUID
    user_id: UUID
    org_id: UUID
    role: Role
    csrf_token: str


CacheKey = UUID | bytes  # a session id (JWT `sid`) or the cookie's SHA-256


class SessionCache:
    """At most `max_entries` sessions, each trusted for `ttl_s` after it was read."""

    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= ttl_s <= MAX_TTL_S:
            raise ValueError(f"a session cache TTL must be between 0 and {MAX_TTL_S} s")
        self.ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[CacheKey, tuple[float, SessionCaller]] = OrderedDict()

    def get(self, key: CacheKey) -> SessionCaller | None:
        found = self._entries.get(key)
        if found is None:
            return None
        read_at, caller = found
        if self._clock() - read_at >= self.ttl_s:
            del self._entries[key]
            return None
        return caller

    def put(self, key: CacheKey, caller: SessionCaller) -> None:
        if self.ttl_s <= 0:
            return
        self._entries.pop(key, None)
        self._entries[key] = (self._clock(), caller)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def drop(self, key: CacheKey) -> None:
        self._entries.pop(key, None)

    def forget(self, *, user_id: UUID | None = None, session_id: UUID | None = None) -> None:
        """Drop every entry of the person, or of the one session (revocations are rare, so a
        scan is fine)."""
        stale = [
            key
            for key, (_, caller) in self._entries.items()
            if caller.user_id == user_id or caller.session_id == session_id
        ]
        for key in stale:
            del self._entries[key]


async def session_caller(
    pool: asyncpg.Pool,
    cache: SessionCache,
    *,
    session_id: UUID | None = None,
    token_sha256: bytes | None = None,
    fresh: bool = False,
) -> SessionCaller | None:
    """The live session's person, or None when it is signed out, expired or disabled.
    `fresh` skips the cache (long-lived streams re-checking their credential)."""
    key: CacheKey | None = session_id if session_id is not None else token_sha256
    if key is None:
        return None
    if not fresh and (cached := cache.get(key)) is not None:
        return cached
    async with pool.acquire() as conn:
        row = await users.session_caller(
            conn,
            session_id=session_id,
            token_sha256=None if session_id is not None else token_sha256,
        )
    if row is None:
        cache.drop(key)
        return None
    caller = SessionCaller(**row)
    cache.put(key, caller)
    return caller
