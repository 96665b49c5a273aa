"""ingest.samples by month (migration 0008): the months ahead made before their samples come,
and backfilled months moved out of the default partition into their own.

Every replica runs the pass at start-up and then every `interval`; ingest.add_sample_month
serializes them, so the second replica finds the month made. A sample never waits for this
pass: one without its month's partition lands in samples_default and moves at the next pass.

A month's move (its rows deleted from the default and its partition attached, one commit) lets
reads and other months' writes go on, so both must allow for it: a read-committed query can
see neither the month's old rows nor its partition (samples are read in repeatable read,
repository.sample_history), and a batch routed to the default just before the move is refused
once it commits (repository.insert_samples tries it again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime

import asyncpg

from pulse_runtime.logging import get_logger
from pulse_runtime.service import Loop, ServiceRuntime

from .repository import sql

log = get_logger(__name__)
# Moving a large backfill out of the default partition can outlast the pool's 60 s statement
# timeout; the pass runs off the request path, so it may take its time.
MOVE_TIMEOUT_S = 3600.0


def month_of(day: date) -> date:
    return day.replace(day=1)


def months_from(first: date, count: int) -> list[date]:
    """`count` first days of months, starting with `first`'s month."""
    year, month = first.year, first.month
    found = []
    for _ in range(count):
        found.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


async def keep_months(pool: asyncpg.Pool, *, today: date, ahead: int) -> list[date]:
    """Partitions for this month and `ahead` more, and for every month found in the default
    partition; returns the months this call made (each in its own short transaction)."""
    wanted = months_from(month_of(today), ahead + 1)
    made: list[date] = []
    async with pool.acquire() as conn:
        wanted += [row["month"] for row in await conn.fetch(sql.months_in_default)]
        for month in sorted(set(wanted)):
            if await conn.fetchval(sql.add_sample_month, month, timeout=MOVE_TIMEOUT_S):
                made.append(month)
    if made:
        log.info("sample months added", months=[m.isoformat()[:7] for m in made])
    return made


def months_loop(now: Callable[[], datetime], *, ahead: int, interval_s: float) -> Loop:
    async def loop(runtime: ServiceRuntime) -> None:
        while True:
            await keep_months(runtime.pool, today=now().date(), ahead=ahead)
            await asyncio.sleep(interval_s)

    return loop
