"""Tables a service churns, vacuumed by the service itself a few seconds after they churned.

A queue table (the aggregator's pending closes: every sample's close inserted, then deleted by
the next recompute of its campaign) holds few live rows but leaves a dead one for each row it
ever held until VACUUM removes it, and a take by campaign reads every dead index entry of that
campaign on its way to the live ones. After bench P1's 3.4 M samples (autovacuum off, as on the
CI machines) one take cost 40 ms of PostgreSQL instead of 0.4 ms, and PostgreSQL's CPU per
kpi.updated in P2 behind it more than doubled. Autovacuum does not bound this either: it
looks at each database once a minute at most (`autovacuum_naptime`), a minute in which a busy
queue collects hundreds of thousands of dead rows. So each service checks its churned tables
every few seconds and vacuums those with enough dead rows: a vacuum then has seconds of churn
to clear, which takes milliseconds.

`VACUUM (SKIP_LOCKED)`: replicas checking at once do not queue behind each other; the one that
holds the table vacuums it, the others skip it. The service's role owns its tables
(migrations run as it), which is what VACUUM needs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg

from .logging import get_logger

if TYPE_CHECKING:
    from .service import Loop, ServiceRuntime

CHECK_EVERY_S = 5.0
MIN_DEAD_ROWS = 20_000  # a take then reads at most a few hundred dead entries more
# The pool's command timeout (60 s) would cancel the first vacuum of a table left bloated for
# long (autovacuum off, a service down for hours) every time; a vacuum can be cancelled safely,
# but it must be let finish once.
VACUUM_TIMEOUT_S = 3600.0

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DEAD_ROWS = """
SELECT relname, n_dead_tup
FROM pg_stat_user_tables
WHERE schemaname = $1 AND relname = ANY($2::text[])
ORDER BY relname
"""

log = get_logger(__name__)


async def vacuum_churned(
    pool: asyncpg.Pool, schema: str, tables: Sequence[str], *, min_dead: int = MIN_DEAD_ROWS
) -> list[str]:
    """Vacuum each of `schema`'s `tables` with at least `min_dead` dead rows; the tables
    vacuumed (or skipped by SKIP_LOCKED while another session vacuums them)."""
    for name in (schema, *tables):
        if not _NAME.match(name):
            raise ValueError(f"refusing an unsafe table or schema name: {name!r}")
    done: list[str] = []
    async with pool.acquire() as conn:
        for row in await conn.fetch(_DEAD_ROWS, schema, list(tables)):
            if row["n_dead_tup"] >= min_dead:
                # VACUUM runs outside a transaction: asyncpg sends this as one simple query.
                await conn.execute(
                    f"VACUUM (SKIP_LOCKED) {schema}.{row['relname']}", timeout=VACUUM_TIMEOUT_S
                )
                done.append(row["relname"])
    if done:
        log.debug("churned tables vacuumed", schema=schema, tables=done)
    return done


def vacuum_loop(tables: Sequence[str], *, every_s: float = CHECK_EVERY_S) -> Loop:
    """The background loop (ServiceRuntime loops) keeping the service's `tables` vacuumed."""

    async def loop(runtime: ServiceRuntime) -> None:
        while True:
            await asyncio.sleep(every_s)
            await vacuum_churned(runtime.pool, runtime.schema, tables)

    return loop
