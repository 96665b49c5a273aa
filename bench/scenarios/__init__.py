"""One module per target of design/performance.md; each `run(ctx)` returns its results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..api import login, ok, staff_client
from ..cpu import meter, per_unit_ms
from ..loadgen import LoadResult, LoadSpec, run_load_process
from ..stats import Result
from ..world import World


@dataclass
class Context:
    world: World
    smoke: bool
    shared: dict[str, Any] = field(default_factory=dict)  # what one scenario leaves another

    async def ingest_token(self) -> str:
        """An ingest-scope API token of the ingest agency (POST /api/tokens), made once."""
        if "ingest_token" not in self.shared:
            async with staff_client(self.world.system.url("gateway")) as api:
                await login(api, self.world.ingest.email)
                made = await ok(
                    api.post("/api/tokens", json={"name": "bench", "scopes": ["ingest"]})
                )
            self.shared["ingest_token"] = made["token"]
        token: str = self.shared["ingest_token"]
        return token


@dataclass
class ReplicaLoad:
    """The same load through two replicas of one service (scale-out on the same machine)."""

    load: LoadResult
    cpu_cores: dict[str, float]
    cpu_ms_per_request: dict[str, float]


async def load_two_replicas(ctx: Context, service: str, spec: LoadSpec) -> ReplicaLoad:
    """`spec`'s load spread over the running `service` and a second instance of it."""
    system = ctx.world.system
    async with system.extra_replica(service) as second:
        procs = {**system.procs, f"{service}-2": second}
        cpu = await meter(procs, ctx.world.database_url)
        load = await run_load_process(replace(spec, more_ports=(second.port,)))
        used, spent = cpu.stop(), cpu.spent()
    return ReplicaLoad(load, used, per_unit_ms(spent, load.completed))


Scenario = Callable[[Context], Awaitable[list[Result]]]


def registry() -> dict[str, Scenario]:
    """In running order: the quiet measurements first, then the loads, then the reads."""
    from . import (
        p1_ingest,
        p2_freshness,
        p3_reads,
        p4_naive,
        p5_share,
        p6_memory,
        p7_disk,
        p8_ready,
        p9_start_tracking,
    )

    return {
        "P7": p7_disk.run,
        "P8": p8_ready.run,
        "P9": p9_start_tracking.run,
        "P1": p1_ingest.run,
        "P6": p6_memory.run,
        "P2": p2_freshness.run,
        "P3": p3_reads.run,
        "P4": p4_naive.run,
        "P5": p5_share.run,
    }


# P6 reports the memory sampled during P1's load.
NEEDS = {"P6": "P1"}
