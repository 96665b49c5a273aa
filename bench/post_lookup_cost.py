"""What ingest's lookup of a batch's posts costs PostgreSQL (services/ingest/pulse_ingest/sql/
load_posts.sql), on the bench's seeded template: 500 posts named by id, then by platform id,
for the organization with the fewest tracked posts and the one with the most.

    python -m bench.post_lookup_cost [--sql FILE] [--repeat 40]

`--sql` times another version of the statement (e.g. `git show REV:<path> > old.sql`). Each
lookup runs as ingest runs it: a prepared statement (asyncpg's), in a transaction, after eight
warm-up runs, so PostgreSQL has settled on its plan (custom or generic) as it would in service.
Wall time per lookup, as the median of the repeats, with rows found (500 each). Not while
`make bench` runs: a run copies the template, which no one may be connected to then.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import asyncpg

from .infra import DEFAULT_CLUSTER, TEMPLATE, with_database

LOAD_POSTS = Path(__file__).parents[1] / "services/ingest/pulse_ingest/sql/load_posts.sql"
WARM_UP = 8


async def measure(sql: str, repeat: int) -> None:
    conn = await asyncpg.connect(with_database(DEFAULT_CLUSTER, TEMPLATE))
    try:
        orgs = await conn.fetch(
            "SELECT org_id, count(*) AS posts FROM ingest.tracked_posts GROUP BY 1 ORDER BY 2"
        )
        statement = await conn.prepare(sql)
        for org in (orgs[0], orgs[-1]):
            named = await conn.fetch(
                "SELECT id, platform_post_id FROM ingest.tracked_posts WHERE org_id = $1 LIMIT 500",
                org["org_id"],
            )
            by: dict[str, tuple[list[Any], list[Any], list[Any]]] = {
                "ids": ([r["id"] for r in named], [], []),
                "platform ids": ([], [r["platform_post_id"] for r in named], []),
            }
            for name, arrays in by.items():
                times: list[float] = []
                found = 0
                for i in range(WARM_UP + repeat):
                    started = time.perf_counter()
                    async with conn.transaction():
                        found = len(await statement.fetch(org["org_id"], *arrays))
                    if i >= WARM_UP:
                        times.append(time.perf_counter() - started)
                print(
                    f"organization of {org['posts']:>6,} posts, 500 {name:<12}: "
                    f"{statistics.median(times) * 1000:6.2f} ms ({found} found)"
                )
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sql", type=Path, default=LOAD_POSTS)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(measure(args.sql.read_text(), args.repeat))


if __name__ == "__main__":
    main()
