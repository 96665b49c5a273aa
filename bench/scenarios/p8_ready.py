"""P8: each service ready after start (target ≤ 3 s).

A second instance of each service is started alone, on a port of its own, with everything it
depends on already up (PostgreSQL, RabbitMQ, its peers), and timed from the process spawn to
the first 200 from GET /ready (database and broker reachable), polled every 20 ms; then it is
stopped. That is what a new replica or a rolling restart costs. A few repetitions each; the
figure is the worst. The smoke run, to stay under a minute, starts nothing more: it reports
the run's own start of the five services (spawned together, so each waited for the others).
"""

from __future__ import annotations

import asyncio

from ..stats import Latency, Result
from ..system import SERVICES, free_port
from . import Context

TARGET_S = 3.0
TIMEOUT_S = 60.0


async def _time_start(ctx: Context, name: str) -> float:
    proc = ctx.world.system.service_process(name, port=free_port())
    proc.spawn()
    try:
        return await proc.wait_answering("/ready", TIMEOUT_S)
    finally:
        await asyncio.to_thread(proc.stop)


async def run(ctx: Context) -> list[Result]:
    times: dict[str, list[float]] = {name: [] for name in SERVICES}
    if ctx.smoke:
        for name in SERVICES:
            times[name].append(ctx.world.system.ready_s[name])
    for _ in range(0 if ctx.smoke else ctx.world.sizes.ready_repetitions):
        for name in SERVICES:
            times[name].append(await _time_start(ctx, name))
    worst = {name: round(max(v), 2) for name, v in times.items()}
    slowest = max(worst, key=lambda name: worst[name])
    return [
        Result(
            id="P8",
            title="Each service ready after start (worst of the repetitions)",
            figure=worst[slowest],
            unit=f"s ({slowest})",
            target=f"≤ {TARGET_S:g} s",
            met=all(v <= TARGET_S for v in worst.values()),
            latency=Latency.of([s for v in times.values() for s in v]),
            counts={"starts": sum(len(v) for v in times.values())},
            details={
                "worst_s": worst,
                "all_s": {n: [round(s, 2) for s in v] for n, v in times.items()},
                "measured_on": "the run's own start of all five at once"
                if ctx.smoke
                else "a second instance of each, started alone",
            },
        )
    ]
