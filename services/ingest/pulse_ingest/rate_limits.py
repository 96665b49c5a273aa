"""Each ingest token's own API rate limit on ingest's HTTP routes (the n8n webhook and runs),
counted in Redis across every ingest replica (pulse_runtime.rate_limit).

A token's limit is higher than a person's on the gateway (a workflow delivers in bursts, one
batch per pulled page) and is one setting for every token. The check runs as a dependency of
those routes, so a refused request is answered before its body (up to 5 MB) is read. Unknown
tokens are not counted: the route refuses them with 401, and counting them would let anyone
fill Redis with made-up keys.
"""

from __future__ import annotations

from fastapi import Request

from pulse_runtime.db import PoolGetter
from pulse_runtime.errors import ApiError
from pulse_runtime.rate_limit import STATE_KEY, RateLimiter

from . import handlers
from .tokens import TokenCache, token_digest


class TokenLimits:
    """`limiter` is set by the app's lifespan (it owns the Redis pool); until then, and while
    Redis cannot be reached, requests pass unchecked."""

    def __init__(self, per_minute: int, pool: PoolGetter, tokens: TokenCache) -> None:
        self.per_minute = per_minute
        self.limiter: RateLimiter | None = None
        self._pool = pool
        self._tokens = tokens

    async def __call__(self, request: Request) -> None:
        if self.limiter is None:
            return
        token = presented_token(request)
        if not token or await handlers.authenticate(self._pool(), token, self._tokens) is None:
            return
        decision = await self.limiter.hit(
            f"ingest-token:{token_digest(token).hex()}", self.per_minute
        )
        if decision is None:
            return
        setattr(request.state, STATE_KEY, decision)
        if not decision.admitted:
            raise ApiError(429, decision.refusal())


def presented_token(request: Request) -> str | None:
    """The token as the routes read it: `Authorization: Bearer`, else `X-Pulse-Key`."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer ") and (bearer := authorization[7:].strip()):
        return bearer
    return request.headers.get("x-pulse-key")
