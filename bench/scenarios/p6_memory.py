"""P6: each service's resident memory under P1's sustained ingest load (target ≤ 150 MB).

RSS is read from /proc/<pid>/status every half second while P1 runs (its send phase and the
wait for the numbers), and the peak per service is the figure: a pod's memory limit has to fit
the peak, not the average.
"""

from __future__ import annotations

import asyncio
import contextlib

from ..stats import Result
from ..system import Process
from . import Context

TARGET_MB = 150.0
INTERVAL_S = 0.5


class RssSampler:
    def __init__(self, procs: dict[str, Process]) -> None:
        self.procs = procs
        self.peak: dict[str, int] = {}
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for name, proc in self.procs.items():
                rss = proc.rss_bytes()
                if rss is not None:
                    self.peak[name] = max(self.peak.get(name, 0), rss)
            self.samples += 1
            await asyncio.sleep(INTERVAL_S)

    def start(self) -> RssSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> dict[str, float]:
        """Peak RSS per service in MB."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return {name: round(rss / 2**20, 1) for name, rss in self.peak.items()}


async def run(ctx: Context) -> list[Result]:
    peaks: dict[str, float] = ctx.shared["rss_peak_mb"]
    idle: dict[str, float] = ctx.shared.get("rss_idle_mb", {})
    worst = max(peaks, key=lambda name: peaks[name])
    return [
        Result(
            id="P6",
            title="RSS per service under the P1 load (peak)",
            figure=peaks[worst],
            unit=f"MB ({worst})",
            target=f"≤ {TARGET_MB:.0f} MB each",
            met=all(mb <= TARGET_MB for mb in peaks.values()),
            counts={"rss_samples": ctx.shared.get("rss_samples", 0)},
            details={"peak_mb": peaks, "idle_before_p1_mb": idle},
        )
    ]
