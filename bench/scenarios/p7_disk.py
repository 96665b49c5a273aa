"""P7: disk per stored sample, indexes included (target ≤ 120 bytes).

pg_total_relation_size('ingest.samples') — heap, TOAST, every index, free-space and
visibility maps — divided by the rows in it, on the seeded set (COPY in key order, then
VACUUM ANALYZE: the table as a bulk import leaves it). It runs before any load, so the table
holds the read set alone. P1's rows are written through the service in arrival order, with
page splits; their cost (table growth ÷ samples stored during P1) is added to the details
at the end of the run when P1 ran.
"""

from __future__ import annotations

from ..stats import Result
from . import Context

TARGET_BYTES = 120.0


async def run(ctx: Context) -> list[Result]:
    admin = await ctx.world.admin()
    try:
        size: int = await admin.fetchval("SELECT pg_total_relation_size('ingest.samples')")
        heap: int = await admin.fetchval("SELECT pg_relation_size('ingest.samples')")
        indexes: int = await admin.fetchval("SELECT pg_indexes_size('ingest.samples')")
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
                "measured_on": "the seeded set after COPY in key order and VACUUM ANALYZE",
            },
        )
    ]
