"""Percentiles and the result record every scenario returns (what latest.json holds)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values: a value that was really observed."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Latency:
    """Milliseconds: p50/p95/p99, max and how many observations they come from."""

    p50: float
    p95: float
    p99: float
    max: float
    n: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency | None:
        if not seconds:
            return None
        ms = sorted(s * 1000 for s in seconds)
        return cls(
            p50=round(percentile(ms, 50), 2),
            p95=round(percentile(ms, 95), 2),
            p99=round(percentile(ms, 99), 2),
            max=round(ms[-1], 2),
            n=len(ms),
        )


@dataclass
class Result:
    """One scenario's outcome. `missing` is what the smoke check asserts is zero; `met` is the
    target's verdict (None when the figure cannot be judged, e.g. a smoke-sized run)."""

    id: str
    title: str
    status: str = "ok"  # ok | error | not_available
    figure: float | None = None
    unit: str = ""
    target: str = ""
    met: bool | None = None
    latency: Latency | None = None
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    missing: int = 0
    counts: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
