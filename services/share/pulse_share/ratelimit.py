"""Token buckets per key, in this process's memory: the public surface's rate limits.

Each replica limits on its own, so N replicas admit up to N times the configured rate; that is
the accepted trade-off for having no shared state on the hot path (design/security.md asks for
per-address and per-link limits, not a global count).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    burst: int  # requests admitted at once
    per_second: float  # refill

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_second <= 0:
            raise ValueError("a rate needs burst >= 1 and per_second > 0")


class TokenBuckets:
    """One bucket per key. At most `max_keys` are kept (least recently used go first), so a
    flood of random tokens or addresses costs bounded memory; a forgotten key simply starts
    again with a full bucket."""

    def __init__(
        self, rate: Rate, *, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[object, tuple[float, float]] = OrderedDict()

    def take(self, key: object, cost: float = 1.0) -> float:
        """Take `cost` tokens: 0.0 when admitted, else the seconds until it would be."""
        now = self._clock()
        tokens, stamp = self._buckets.pop(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - stamp) * self.rate.per_second)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / self.rate.per_second
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> str:
    """The Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
