"""One module per target of design/performance.md; each `run(ctx)` returns its results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..api import login, ok, staff_client
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
