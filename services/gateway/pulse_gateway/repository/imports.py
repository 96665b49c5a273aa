"""CSV import jobs, and the tracked posts an import's rows name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection, without_nul

_COLUMNS = (
    "id, created_by, filename, status, rows_total, rows_accepted, rows_duplicate, "
    "rows_rejected, errors, message, created_at, finished_at"
)
_INSERT = f"""
INSERT INTO catalog.imports (id, org_id, created_by, filename)
VALUES ($1, $2, $3, $4)
RETURNING {_COLUMNS}
"""
_GET = f"SELECT {_COLUMNS} FROM catalog.imports WHERE org_id = $1 AND id = $2"
_PROGRESS = """
UPDATE catalog.imports
SET status = $3, rows_total = $4, rows_accepted = $5, rows_duplicate = $6, rows_rejected = $7,
    errors = $8, message = $9,
    finished_at = CASE WHEN $3 IN ('done', 'failed') THEN clock_timestamp() END
WHERE org_id = $1 AND id = $2
"""
# Tracked posts only: a removed post takes no new samples.
_POSTS = """
SELECT id, platform, url, platform_post_id
FROM catalog.posts
WHERE org_id = $1
  AND removed_at IS NULL
  AND (id = ANY ($2::uuid[]) OR url = ANY ($3::text[]) OR platform_post_id = ANY ($4::text[]))
"""


@dataclass
class Progress:
    """What a job has done so far; `errors` holds the first row errors only."""

    status: str = "running"
    rows_total: int = 0
    rows_accepted: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    errors: list[dict[str, Any]] | None = None
    message: str | None = None


async def insert_import(
    conn: Connection, *, org_id: UUID, import_id: UUID, created_by: UUID | None, filename: str
) -> dict[str, Any]:
    row = await conn.fetchrow(_INSERT, import_id, org_id, created_by, filename)
    assert row is not None
    return dict(row)


async def get_import(conn: Connection, *, org_id: UUID, import_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(_GET, org_id, import_id)
    return dict(row) if row else None


async def save_progress(
    conn: Connection, *, org_id: UUID, import_id: UUID, progress: Progress
) -> None:
    await conn.execute(
        _PROGRESS,
        org_id,
        import_id,
        progress.status,
        progress.rows_total,
        progress.rows_accepted,
        progress.rows_duplicate,
        progress.rows_rejected,
        without_nul(progress.errors or []),  # row errors quote the file, which may hold NUL
        without_nul(progress.message),
    )


async def find_posts(
    conn: Connection,
    *,
    org_id: UUID,
    ids: Sequence[UUID],
    urls: Sequence[str],
    platform_post_ids: Sequence[str],
) -> list[dict[str, Any]]:
    """Tracked posts of the organization with any of these ids, URLs or platform post ids."""
    rows = await conn.fetch(_POSTS, org_id, list(ids), list(urls), list(platform_post_ids))
    return [dict(r) for r in rows]
