"""P7: disk per stored sample, indexes included (target ≤ 120 bytes).

pg_total_relation_size of ingest.samples — heap, TOAST, every index, free-space and
visibility maps; summed over its partitions since ingest migration 0008 made it a table
partitioned by month (the partitioned table itself stores nothing) — divided by the rows in
it, on the seeded set (COPY in key order, then VACUUM ANALYZE: the table as a bulk import
leaves it). It runs before any load, so the table holds the read set alone. P1's rows are
written through the service in arrival order, with page splits; their cost (table growth ÷
samples stored during P1) is added to the details at the end of the run when P1 ran.
"""

from __future__ import annotations

import asyncpg

from ..stats import Result
from . import Context

TARGET_BYTES = 120.0
# Every relation of the samples: the table and, when it is partitioned, each partition (their
# indexes come with them). pg_partition_tree lists nothing for a plain table, hence the union.
SIZES = """
SELECT sum(pg_total_relation_size(relid))::bigint AS total,
       sum(pg_relation_size(relid))::bigint AS heap,
       sum(pg_indexes_size(relid))::bigint AS indexes,
       count(*) FILTER (WHERE relkind = 'r') AS tables
FROM (SELECT relid FROM pg_partition_tree('ingest.samples')
      UNION SELECT 'ingest.samples'::regclass) AS tree
JOIN pg_class AS c ON c.oid = tree.relid
"""


async def samples_sizes(admin: asyncpg.Connection) -> asyncpg.Record:
    """total, heap and index bytes of ingest.samples over all its partitions, and how many
    tables hold them."""
    row = await admin.fetchrow(SIZES)
    assert row is not None  # an aggregate always returns its row
    return row


async def run(ctx: Context) -> list[Result]:
    admin = await ctx.world.admin()
    try:
        sizes = await samples_sizes(admin)
        size, heap, indexes = sizes["total"], sizes["heap"], sizes["indexes"]
        rows: int = await admin.fetchval("SELECT count(*) FROM ingest.samples")
    finally:
        await admin.close()
    per_sample = size / rows if rows else None
    return [
        Result(
            id="P7",
            title="Disk per stored sample, indexes included",
            figure=round(per_sample, 1) if per_sample else None,
            unit="bytes/sample",
            target=f"≤ {TARGET_BYTES:g} bytes",
            met=per_sample is not None and per_sample <= TARGET_BYTES,
            counts={"samples": rows},
            details={
                "total_bytes": size,
                "heap_bytes": heap,
                "index_bytes": indexes,
                "heap_per_sample": round(heap / rows, 1) if rows else None,
                "index_per_sample": round(indexes / rows, 1) if rows else None,
                "tables": sizes["tables"],
                "measured_on": "the seeded set after COPY in key order and VACUUM ANALYZE",
            },
        )
    ]
