"""Ingest tokens remembered briefly in process, so a busy n8n token costs no query per request.

The bound: a token revoked (or stripped of its `ingest` scope) in the gateway stops working on
every replica within `ttl_s`, at most 10 s. The replica that consumes the catalog event forgets
it at once; the others (replicas compete on ingest.catalog, so only one sees each event) when
their entry expires. Unknown tokens are never remembered, so a token created a moment ago works
as soon as ingest has its catalog copy. Last use is written on each cache miss, that is at
most once per token per `ttl_s` per replica, and the SQL itself writes the row at most once a
minute (touch_token.sql), so a token sending hundreds of batches a second costs no writes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from uuid import UUID

MAX_TTL_S: Final = 10.0
DEFAULT_TTL_S: Final = 5.0


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class KnownToken:
    token_id: UUID
    org_id: UUID
    expires: float  # on the cache's monotonic clock


class TokenCache:
    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = max(0.0, min(ttl_s, MAX_TTL_S))
        self._max = max(1, max_entries)
        self._clock = clock
        self._by_digest: dict[bytes, KnownToken] = {}

    def org_for(self, digest: bytes) -> UUID | None:
        """The organization of a token seen within the TTL; None when unknown or expired."""
        known = self._by_digest.get(digest)
        if known is None:
            return None
        if known.expires <= self._clock():
            del self._by_digest[digest]
            return None
        return known.org_id

    def remember(self, digest: bytes, *, token_id: UUID, org_id: UUID) -> None:
        if self.ttl_s <= 0:
            return
        self._by_digest.pop(digest, None)
        if len(self._by_digest) >= self._max:
            # Oldest first (dicts keep insertion order): the bound only matters under a flood
            # of distinct valid tokens, and an evicted token just costs one more query.
            del self._by_digest[next(iter(self._by_digest))]
        self._by_digest[digest] = KnownToken(token_id, org_id, self._clock() + self.ttl_s)

    def forget(self, token_id: UUID) -> None:
        """A catalog event changed or revoked this token: ask the database next time."""
        for digest in [d for d, k in self._by_digest.items() if k.token_id == token_id]:
            del self._by_digest[digest]

    def __len__(self) -> int:
        return len(self._by_digest)
